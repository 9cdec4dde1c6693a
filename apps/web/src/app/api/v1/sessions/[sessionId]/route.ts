import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { getSession } from "@/server/sessions/get-session";
import { renameSession } from "@/server/sessions/rename-session";
import { setSessionState } from "@/server/sessions/set-session-state";

export const GET = withApiToken(API_OPERATIONS.getSession, async ({ ctx, params }) => getSession({ ctx, sessionId: params.sessionId }));

export const PATCH = withApiToken(API_OPERATIONS.updateSession, async ({ ctx, params, body }) => {
  // Checked first, so a missing session is a 404 before anything is written.
  await getSession({ ctx, sessionId: params.sessionId });
  if (body.name !== undefined) await renameSession({ ctx, sessionId: params.sessionId, name: body.name });
  if (body.state !== undefined) await setSessionState({ ctx, sessionId: params.sessionId, state: body.state });
  return getSession({ ctx, sessionId: params.sessionId });
});

export const { HEAD, OPTIONS, POST, PUT, DELETE } = otherMethods({ GET, PATCH });
