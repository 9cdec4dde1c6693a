import { NextResponse } from "next/server";
import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { getCaptureStatus } from "@/server/captures/get-capture-status";

/** Where a capture request stands (polled by the capture button while it waits). */
export const GET = withProject<{ project: string; requestId: string }>(
  async (_request, { ctx, params }) =>
    NextResponse.json(await getCaptureStatus({ ctx, requestId: params.requestId }), { headers: { "Cache-Control": "no-store" } }),
  { role: CAN.browse },
);
