import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { getCaptureStatus } from "@/server/captures/get-capture-status";

export const GET = withApiToken(API_OPERATIONS.getCapture, async ({ ctx, params }) =>
  getCaptureStatus({ ctx, requestId: params.requestId }),
);

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
