import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { createFileDownloadUrl } from "@/server/files/file-download-url";

export const GET = withApiToken(API_OPERATIONS.getFileDownloadUrl, async ({ ctx, params }) =>
  createFileDownloadUrl({ ctx, fileId: params.fileId }),
);

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
