import "server-only";
import { CAN } from "@/lib/roles";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAuditOnce } from "@/server/audit/write-audit";
import { sessionsStore } from "@/server/stores/sessions-store";
import { VIEW_AUDIT_MINUTES } from "./file-response";
import { getFile } from "./get-file";

const MAX_JSON_PREVIEW_BYTES = 2 * 1024 * 1024;

/** A JSON file pretty-printed, when it is small enough to parse here; null when not JSON or too big. */
export async function readJsonPreview(options: { ctx: TProjectContext; fileId: string }): Promise<{ pretty: string } | null> {
  requireRole(options.ctx, CAN.download);
  const file = await getFile({ ctx: options.ctx, fileId: options.fileId });
  if (file.state !== "uploaded") throw new NotFoundError("The file is not uploaded");
  // File contents, like a download: members and up, and audited.
  await writeAuditOnce(
    options.ctx,
    {
      action: "file.view",
      targetType: "file",
      targetId: file.id,
      details: { session: file.sessionId, filename: file.filename, size: file.size },
    },
    { withinMinutes: VIEW_AUDIT_MINUTES },
  );
  if (Number(file.size ?? 0) > MAX_JSON_PREVIEW_BYTES) return null;
  const opened = await sessionsStore().open(file.objectKey);
  if (!opened) throw new NotFoundError("The stored object is missing");
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
  try {
    return { pretty: JSON.stringify(JSON.parse(Buffer.concat(chunks).toString("utf8")), null, 2) };
  } catch {
    return null;
  }
}
