import { NextResponse } from "next/server";
import { firstValues } from "@/lib/list-queries";
import { ZOverviewQuerySchema } from "@/lib/overview";
import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { getOverview } from "@/server/overview/get-overview";

/** The overview's figures (polled by the page). */
export const GET = withProject<{ project: string }>(
  async (request, { ctx }) => {
    const query = ZOverviewQuerySchema.parse(firstValues(new URL(request.url).searchParams));
    return NextResponse.json(await getOverview({ ctx, query }), { headers: { "Cache-Control": "no-store" } });
  },
  { role: CAN.browse },
);
