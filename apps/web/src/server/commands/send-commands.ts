import "server-only";
import { randomUUID } from "node:crypto";
import { COMMANDS_STORE, commandsFilePath, type TCommandList } from "@fleetdrop/shared/protocol/commands";
import { createTopics } from "@fleetdrop/shared/topics";
import { env } from "@/env";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { BrokerUnavailableError, publishCommand, type TPublish } from "@/server/mqtt/command-publisher";
import { namedStore } from "@/server/stores/named-stores";

/**
 * Command lists (docs/protocol.md#command-lists): writes `incoming/{D}/{service}/commands.json` (a JSON array of
 * `{command}`), then tells the device on `P/fleet/D/commands`
 * `{type: "commands", request_id, service, store, path}`. The file is written first, so a device
 * that fetches it on its own schedule finds it even when the notice cannot be delivered. Audited
 * as `device.commands` (with the list): the first half of the command history.
 */
export async function sendCommands(options: {
  ctx: TProjectContext;
  serial: string;
  service: string;
  commands: TCommandList;
  publish?: TPublish;
}): Promise<{ requestId: string; objectKey: string; notified: boolean }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const device = await db().device.findFirst({
    where: { serial: options.serial, projectId: ctx.project.id },
    select: { serial: true, enabled: true },
  });
  if (!device) throw new NotFoundError("No such device");
  if (!device.enabled) throw new UserInputError("The device is disabled: enable it before sending commands");
  const entry = namedStore(COMMANDS_STORE);
  const path = commandsFilePath(options.service);
  const key = entry.perDevice ? `${device.serial}/${path}` : path;
  await entry.store.put(key, `${JSON.stringify(options.commands, null, 2)}\n`, { contentType: "application/json" });
  const requestId = `commands-${randomUUID()}`;
  let notified = true;
  try {
    await (options.publish ?? publishCommand)(createTopics(env.TOPIC_PREFIX).device(device.serial).commands, {
      type: "commands",
      request_id: requestId,
      service: options.service,
      store: COMMANDS_STORE,
      path,
    });
  } catch (error) {
    if (!(error instanceof BrokerUnavailableError)) throw error;
    notified = false;
  }
  await writeAudit(ctx, {
    action: "device.commands",
    targetType: "device",
    targetId: device.serial,
    details: { service: options.service, requestId, commands: options.commands, objectKey: entry.store.prefix + key, notified },
  });
  return { requestId, objectKey: entry.store.prefix + key, notified };
}
