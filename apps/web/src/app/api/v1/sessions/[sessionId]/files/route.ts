import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { listFiles } from "@/server/files/list-files";

export const GET = withApiToken(API_OPERATIONS.listFiles, async ({ ctx, params, query }) => {
  const list = await listFiles({ ctx, sessionId: params.sessionId, query });
  return {
    path: list.path,
    folders: list.folders,
    items: list.rows,
    page: list.page,
    pageSize: list.pageSize,
    total: list.total,
    counts: list.counts,
  };
});

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
