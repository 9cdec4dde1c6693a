import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { sessionArchiveResponse } from "@/server/files/session-archive";

export const GET = withApiToken(API_OPERATIONS.downloadSession, async ({ ctx, params }) =>
  sessionArchiveResponse({ ctx, sessionId: params.sessionId }),
);

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
