import "server-only";
import { bulkCreateDevices as provisionBatch } from "@fleetdrop/provisioning/devices/bulk-create-devices";
import type { TAuthMode } from "@fleetdrop/provisioning/devices/credentials";
import { parseDeviceCsv } from "@fleetdrop/provisioning/devices/csv";
import { formatCount } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { UserInputError } from "@/server/errors";
import { asDashboardErrors, issued, provisioningContext, requireAuthModeAvailable } from "./provisioning";

/** One batch at most: a production line's shift, not a whole fleet in one request. */
const MAX_BULK_DEVICES = 1000;

/**
 * Provisions every device of a CSV (one serial per row, or columns serial,name,auth). All rows
 * are checked first; nothing is created unless every row is good.
 */
export async function bulkCreateDevices(options: { ctx: TProjectContext; csv: string; authMode: TAuthMode }) {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const rows = await asDashboardErrors(Promise.resolve().then(() => parseDeviceCsv(options.csv)));
  if (rows.length > MAX_BULK_DEVICES)
    throw new UserInputError(`The CSV has ${formatCount(rows.length, "device")}; upload at most ${MAX_BULK_DEVICES} at a time`, "csv");
  for (const mode of new Set(rows.map((row) => row.authMode ?? options.authMode))) requireAuthModeAvailable(mode);
  const created = await asDashboardErrors(
    provisionBatch(provisioningContext(ctx), { projectId: ctx.project.id, rows, authMode: options.authMode }),
  );
  await writeAudit(ctx, {
    action: "device.bulk_create",
    targetType: "device",
    details: { count: created.length, serials: created.map((c) => c.device.serial).slice(0, 50) },
  });
  const devices = created.map((c) => ({
    serial: c.device.serial,
    authMode: c.credentials.authMode,
    ...(c.credentials.authMode === "password" ? { password: c.credentials.password } : {}),
  }));
  return { count: created.length, serials: devices.map((d) => d.serial), devices, ...issued(created) };
}
