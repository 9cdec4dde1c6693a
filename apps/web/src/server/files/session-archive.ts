import "server-only";
import { makeZip } from "client-zip";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { getSession } from "@/server/sessions/get-session";
import { sessionsStore } from "@/server/stores/sessions-store";
import { contentDisposition } from "@fleetdrop/storage/content-disposition";

const BATCH = 500;

/**
 * A whole session as a zip, streamed: file rows are read in batches and each object is piped
 * from storage into the archive as the browser reads it, so memory stays flat for any size.
 * Stored without compression (camera images and recordings are compressed already); ZIP64
 * beyond 4 GiB.
 */
export async function sessionArchiveResponse(options: { ctx: TProjectContext; sessionId: number | string }): Promise<Response> {
  const { ctx } = options;
  requireRole(ctx, CAN.download);
  const session = await getSession({ ctx, sessionId: options.sessionId });
  const store = sessionsStore();
  const prisma = db();
  await writeAudit(ctx, {
    action: "session.download",
    targetType: "session",
    targetId: session.id,
    details: { name: session.name, files: session.totals.uploaded, bytes: session.totals.bytes },
  });

  async function* entries() {
    let after = "";
    for (;;) {
      const batch = await prisma.file.findMany({
        where: { sessionId: session.id, state: "uploaded", filename: { gt: after } },
        orderBy: { filename: "asc" },
        take: BATCH,
        select: { filename: true, objectKey: true, size: true, uploadedAt: true },
      });
      for (const file of batch) {
        const opened = await store.open(file.objectKey);
        if (!opened) continue; // deleted from storage behind our back: leave it out
        yield { name: file.filename, lastModified: file.uploadedAt ?? new Date(), size: opened.info.size, input: opened.body };
      }
      if (batch.length < BATCH) return;
      after = batch.at(-1)!.filename;
    }
  }

  const name = `${session.device.serial}-session-${session.id}.zip`;
  return new Response(makeZip(entries()), {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": contentDisposition(name, "attachment"),
      "Cache-Control": "private, no-store",
    },
  });
}
