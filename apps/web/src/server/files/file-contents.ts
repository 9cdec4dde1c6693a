import "server-only";
import { CAN } from "@/lib/roles";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAuditOnce } from "@/server/audit/write-audit";
import { sessionsStore } from "@/server/stores/sessions-store";
import { downloadAudit } from "./file-download-url";
import { getFile, type TFileDetail } from "./get-file";

/** Minutes within which repeated previews of one file by one person make one audit entry. */
export const VIEW_AUDIT_MINUTES = 10;

/** A file whose contents are asked for: the role a download needs (CAN.download), and an uploaded file. */
export async function fileWithContents(ctx: TProjectContext, fileId: string): Promise<TFileDetail> {
  requireRole(ctx, CAN.download);
  const file = await getFile({ ctx, fileId });
  if (file.state !== "uploaded") throw new NotFoundError("The file is not uploaded");
  return file;
}

/** File contents shown, like a download, go to the audit log: as `file.view`, once per VIEW_AUDIT_MINUTES. */
export async function auditView(ctx: TProjectContext, file: TFileDetail): Promise<void> {
  await writeAuditOnce(ctx, { ...downloadAudit(file), action: "file.view" }, { withinMinutes: VIEW_AUDIT_MINUTES });
}

/** A file a preview shows: fileWithContents, with the view audited. */
export async function previewedFile(ctx: TProjectContext, fileId: string): Promise<TFileDetail> {
  const file = await fileWithContents(ctx, fileId);
  await auditView(ctx, file);
  return file;
}

/** The stored bytes (or a range of them) in memory: for previews, which read bounded windows only. */
export async function readStoredBytes(key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const opened = await sessionsStore().open(key, range ? { range } : undefined);
  if (!opened) throw new NotFoundError("The stored object is missing");
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
