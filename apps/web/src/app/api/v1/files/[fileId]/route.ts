import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { getFile } from "@/server/files/get-file";

export const GET = withApiToken(API_OPERATIONS.getFile, async ({ ctx, params }) => {
  const file = await getFile({ ctx, fileId: params.fileId });
  // getFile pretty-prints user data for the dashboard; the API answers it as JSON.
  return { ...file, userData: file.userData === null ? null : (JSON.parse(file.userData) as unknown) };
});

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
