import "server-only";
import { storePathProblem } from "@fleetdrop/shared/protocol/stores";
import type { TNamedStore } from "@fleetdrop/storage/named-stores";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { namedStore } from "./named-stores";

/**
 * Who may use which part of a store in the dashboard (docs/protocol.md#stores):
 * - per-device stores (`config`, `incoming`, `status`): the folders of the project's devices,
 *   read and written by the project's admins;
 * - shared stores (`apps`, `contents`): one folder for the whole platform, so project admins
 *   read them and only platform administrators change them.
 */
export type TStoreTarget = {
  entry: TNamedStore;
  device: string | null;
  /** Key of the folder in the store (relative to its prefix). */ base: string;
  canWrite: boolean;
};

export async function resolveStoreTarget(options: { ctx: TProjectContext; store: string; device?: string | null }): Promise<TStoreTarget> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const entry = namedStore(options.store);
  if (!entry.perDevice) return { entry, device: null, base: "", canWrite: ctx.user?.isAdmin === true };
  if (!options.device) throw new UserInputError("Choose a device: this store keeps one folder per device", "device");
  const device = await db().device.findFirst({ where: { serial: options.device, projectId: ctx.project.id }, select: { serial: true } });
  if (!device) throw new NotFoundError("No such device");
  return { entry, device: device.serial, base: `${device.serial}/`, canWrite: true };
}

/** The key of `path` in the target, or a readable refusal. */
export function targetKey(target: TStoreTarget, path: string): string {
  const problem = storePathProblem(path);
  if (problem) throw new UserInputError(`The path ${problem.reason.replace(/^path /, "")}`, "path");
  return target.base + path;
}

export function requireWrite(target: TStoreTarget): void {
  if (!target.canWrite)
    throw new ForbiddenError(`The "${target.entry.name}" store is shared by every project: only platform administrators change it`);
}
