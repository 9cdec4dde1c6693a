import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { sessionArchiveResponse } from "@/server/files/session-archive";

/** The whole session as a streamed zip (members and up; audited). */
export const GET = withProject<{ project: string; sessionId: string }>(
  async (_request, { ctx, params }) => sessionArchiveResponse({ ctx, sessionId: params.sessionId }),
  { role: CAN.download },
);
