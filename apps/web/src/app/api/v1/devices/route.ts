import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { listDevicesPage } from "@/server/devices/list-devices";

export const GET = withApiToken(API_OPERATIONS.listDevices, async ({ ctx, query }) => {
  const list = await listDevicesPage({
    ctx,
    query: { q: query.q, enabled: query.enabled === undefined ? undefined : query.enabled === "true", page: query.page },
  });
  return { items: list.rows, page: list.page, pageSize: list.pageSize, total: list.total };
});

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
