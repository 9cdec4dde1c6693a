import { API_OPERATIONS } from "@/lib/api-v1/operations";
import { otherMethods } from "@/server/api/api-route";
import { withApiToken } from "@/server/api/with-api-token";
import { listCommandRuns } from "@/server/commands/list-command-runs";
import { sendCommands } from "@/server/commands/send-commands";

export const GET = withApiToken(API_OPERATIONS.listCommands, async ({ ctx, params }) => ({
  items: await listCommandRuns({ ctx, serial: params.serial }),
}));

export const POST = withApiToken(API_OPERATIONS.sendCommands, async ({ ctx, params, body }) =>
  sendCommands({ ctx, serial: params.serial, service: body.service, commands: body.commands }),
);

export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
