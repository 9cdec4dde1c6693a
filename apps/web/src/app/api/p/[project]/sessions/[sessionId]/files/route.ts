import { NextResponse } from "next/server";
import { CAN } from "@/lib/roles";
import { firstValues, ZFileListQuerySchema } from "@/lib/list-queries";
import { withProject } from "@/server/auth/with-project";
import { listFiles } from "@/server/files/list-files";

/** The Files browser's live list (polled by the page). */
export const GET = withProject<{ project: string; sessionId: string }>(
  async (request, { ctx, params }) => {
    const query = ZFileListQuerySchema.parse(firstValues(new URL(request.url).searchParams));
    const list = await listFiles({ ctx, sessionId: params.sessionId, query });
    return NextResponse.json(list, { headers: { "Cache-Control": "no-store" } });
  },
  { role: CAN.browse },
);
