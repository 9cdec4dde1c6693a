import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { createSession } from "@/server/sessions/create-session";
import { getSession } from "@/server/sessions/get-session";
import { listSessions } from "@/server/sessions/list-sessions";

export const GET = withApiToken(API_OPERATIONS.listSessions, async ({ ctx, query }) => {
  const list = await listSessions({ ctx, query });
  return { items: list.rows, page: list.page, pageSize: list.pageSize, total: list.total };
});

export const POST = withApiToken(API_OPERATIONS.createSession, async ({ ctx, body }) => {
  const session = await createSession({ ctx, deviceSerial: body.device, name: body.name });
  return getSession({ ctx, sessionId: session.id });
});

export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
