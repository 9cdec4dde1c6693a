import { NextResponse } from "next/server";
import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { listPresence } from "@/server/devices/list-presence";

/** Presence of the project's devices (or of `?serial=`), polled by the live badges. */
export const GET = withProject<{ project: string }>(
  async (request, { ctx }) => {
    const serial = new URL(request.url).searchParams.get("serial") ?? undefined;
    return NextResponse.json(await listPresence({ ctx, serial }), { headers: { "Cache-Control": "no-store" } });
  },
  { role: CAN.browse },
);
