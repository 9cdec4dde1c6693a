import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { parseSessionId } from "@/server/sessions/get-session";
import { requestCapture } from "@/server/sessions/request-capture";

export const POST = withApiToken(API_OPERATIONS.requestCapture, async ({ ctx, params }) => {
  const { requestId, presence } = await requestCapture({ ctx, sessionId: params.sessionId });
  return { requestId, sessionId: parseSessionId(params.sessionId), presence };
});

export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
