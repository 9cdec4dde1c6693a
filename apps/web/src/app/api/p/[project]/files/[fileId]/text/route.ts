import { NextResponse } from "next/server";
import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { readTextPreview } from "@/server/files/read-text-preview";

/** First and last lines of a text file (two bounded reads from storage). */
export const GET = withProject<{ project: string; fileId: string }>(
  async (_request, { ctx, params }) =>
    NextResponse.json(await readTextPreview({ ctx, fileId: params.fileId }), { headers: { "Cache-Control": "no-store" } }),
  { role: CAN.download },
);
