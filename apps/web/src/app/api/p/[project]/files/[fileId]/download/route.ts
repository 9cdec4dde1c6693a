import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { fileResponse } from "@/server/files/file-response";

/** A download as an attachment with the file's name (members and up; audited). */
export const GET = withProject<{ project: string; fileId: string }>(
  async (request, { ctx, params }) =>
    fileResponse({ ctx, fileId: params.fileId, disposition: "attachment", range: request.headers.get("range") }),
  { role: CAN.download },
);
