import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { fileResponse } from "@/server/files/file-response";

/** Inline bytes for previews (thumbnails, players); never HTML/SVG as such. The same role as a download, and audited. */
export const GET = withProject<{ project: string; fileId: string }>(
  async (request, { ctx, params }) =>
    fileResponse({ ctx, fileId: params.fileId, disposition: "inline", range: request.headers.get("range") }),
  { role: CAN.download },
);
