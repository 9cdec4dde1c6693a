/**
 * What the worker does when an object lands in a named store (the fs endpoint's event, or a
 * device's `file_upload/complete`): an audit row `store.upload` with the device as actor, and,
 * for `status/{D}/{service}/last_monitoring_status.json`, the report itself as a
 * `device.status_report` row — the history of command runs the dashboard shows. Recording is
 * idempotent per object version (ETag), since both signals may arrive for one upload.
 */
import type { Pool } from "@fleetdrop/db/pool";
import { serviceOfStatusPath, STATUS_STORE, ZStatusReportSchema } from "@fleetdrop/shared/protocol/commands";
import { isValidDeviceId } from "@fleetdrop/shared/names";
import type { TNamedStore } from "@fleetdrop/storage/named-stores";
import { auditDeviceAction } from "../db/audit";
import { findDevice } from "../db/devices";
import { storeUploadRecorded } from "../db/store-objects";
import { withTransaction } from "../db/transaction";
import type { Logger } from "../logger";
import { enqueueEvent } from "../webhooks/outbox-db";

/** Reports larger than this are recorded as unreadable rather than read into memory. */
const MAX_STATUS_REPORT_BYTES = 256 * 1024;

export type TStoreObjectEvent = { entry: TNamedStore; key: string; size: number; etag: string; contentType?: string };
export type TRecordStoreObject = (event: TStoreObjectEvent) => Promise<void>;

export function createStoreObjectRecorder(deps: { pool: Pool; log: Logger }): TRecordStoreObject {
  return async ({ entry, key, size, etag, contentType }) => {
    // Devices write only into per-device stores' own folders, so the first part names the device.
    const slash = key.indexOf("/");
    const deviceId = entry.perDevice && slash > 0 ? key.slice(0, slash) : null;
    if (!deviceId || !isValidDeviceId(deviceId)) return;
    const device = await findDevice(deps.pool, deviceId);
    if (!device) return;
    const targetId = `${entry.name}:${key}`;
    if (await storeUploadRecorded(deps.pool, targetId, etag)) return;
    const path = key.slice(slash + 1);
    await auditDeviceAction(deps.pool, {
      projectId: device.projectId,
      deviceId,
      action: "store.upload",
      targetType: "store_object",
      targetId,
      details: { store: entry.name, path, key, size, etag, ...(contentType ? { contentType } : {}) },
    });
    const service = entry.name === STATUS_STORE ? serviceOfStatusPath(path) : null;
    if (!service) return;
    const report = await readReport(entry, key, size);
    // The report's audit row and its command.completed event commit together.
    await withTransaction(deps.pool, async (client) => {
      await auditDeviceAction(client, {
        projectId: device.projectId,
        deviceId,
        action: "device.status_report",
        targetType: "service",
        targetId: `${deviceId}/${service}`,
        details: { service, etag, ...report },
      });
      await enqueueEvent(client, {
        projectId: device.projectId,
        deviceId: device.id,
        type: "command.completed",
        data: { service, object_key: key, etag, ...("report" in report ? { report: report.report } : { error: report.error }) },
      });
    });
    deps.log.info({ device: deviceId, service, ok: "report" in report }, "status report recorded");
  };
}

async function readReport(entry: TNamedStore, key: string, size: number): Promise<{ report: unknown } | { error: string }> {
  if (size > MAX_STATUS_REPORT_BYTES) return { error: `the report is ${size} bytes; at most ${MAX_STATUS_REPORT_BYTES} are read` };
  const opened = await entry.store.open(key);
  if (!opened) return { error: "the report disappeared from storage before it could be read" };
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(chunk as Buffer);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return { error: "the report is not valid JSON" };
  }
  const parsed = ZStatusReportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      error:
        `the report does not match {general_status, general_error, commands: [{command, result, status}]}: ` +
        `${issue?.path.join(".") || "report"}: ${issue?.message}`,
    };
  }
  return { report: parsed.data };
}
