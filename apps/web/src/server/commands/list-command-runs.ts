import "server-only";
import { parseAuditDetails } from "@fleetdrop/shared/audit";
import { ZStatusReportSchema, type TCommandList, type TStatusReport } from "@fleetdrop/shared/protocol/commands";
import { jsonText } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TCommandEvent =
  | { kind: "sent"; id: string; at: string; by: string; service: string; requestId: string; commands: TCommandList; notified: boolean }
  | { kind: "report"; id: string; at: string; service: string; etag: string; report: TStatusReport | null; error: string | null };

/**
 * A device's command history, newest first: the lists people sent (`device.commands`) and the
 * reports the device uploaded (`device.status_report`, written by the worker when
 * `status/{D}/{service}/last_monitoring_status.json` lands).
 */
export async function listCommandRuns(options: { ctx: TProjectContext; serial: string; limit?: number }): Promise<TCommandEvent[]> {
  requireRole(options.ctx, CAN.browse);
  const device = await db().device.findFirst({
    where: { serial: options.serial, projectId: options.ctx.project.id },
    select: { serial: true },
  });
  if (!device) throw new NotFoundError("No such device");
  const rows = await db().auditLog.findMany({
    where: {
      projectId: options.ctx.project.id,
      OR: [
        { action: "device.commands", targetId: device.serial },
        { action: "device.status_report", targetId: { startsWith: `${device.serial}/` } },
      ],
    },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: options.limit ?? 50,
    select: { id: true, at: true, action: true, actorLabel: true, details: true },
  });
  return rows.map((row): TCommandEvent => {
    const details = (row.details ?? {}) as Record<string, unknown>;
    if (row.action === "device.commands") {
      const sent = parseAuditDetails("device.commands", row.details);
      if (sent) {
        const { service, requestId, commands, notified } = sent;
        return {
          kind: "sent",
          id: row.id.toString(),
          at: row.at.toISOString(),
          by: row.actorLabel,
          service,
          requestId,
          commands,
          notified,
        };
      }
      // A row from an older version: whatever of the fields it has.
      return {
        kind: "sent",
        id: row.id.toString(),
        at: row.at.toISOString(),
        by: row.actorLabel,
        service: jsonText(details.service),
        requestId: jsonText(details.requestId),
        commands: Array.isArray(details.commands) ? (details.commands as TCommandList) : [],
        notified: details.notified !== false,
      };
    }
    const recorded = parseAuditDetails("device.status_report", row.details);
    if (recorded) {
      const parsed = "report" in recorded ? ZStatusReportSchema.safeParse(recorded.report) : null;
      return {
        kind: "report",
        id: row.id.toString(),
        at: row.at.toISOString(),
        service: recorded.service,
        etag: recorded.etag,
        report: parsed?.success ? parsed.data : null,
        error: parsed?.success ? null : "error" in recorded ? recorded.error : "the report could not be read",
      };
    }
    const parsed = ZStatusReportSchema.safeParse(details.report);
    return {
      kind: "report",
      id: row.id.toString(),
      at: row.at.toISOString(),
      service: jsonText(details.service),
      etag: jsonText(details.etag),
      report: parsed.success ? parsed.data : null,
      error: parsed.success ? null : jsonText(details.error, "the report could not be read"),
    };
  });
}
