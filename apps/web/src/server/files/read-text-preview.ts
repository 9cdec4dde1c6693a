import "server-only";
import { CAN } from "@/lib/roles";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAuditOnce } from "@/server/audit/write-audit";
import { sessionsStore } from "@/server/stores/sessions-store";
import { VIEW_AUDIT_MINUTES } from "./file-response";
import { getFile } from "./get-file";

export const PREVIEW_WINDOW_BYTES = 64 * 1024;
const PREVIEW_LINES = 200;

export type TTextPreview = {
  size: number;
  /** True when the file is larger than both windows: head and tail are separate excerpts. */
  truncated: boolean;
  head: string[];
  tail: string[];
  /** Bytes between the two excerpts that were not read. */
  skippedBytes: number;
};

async function readRange(key: string, start: number, end: number): Promise<Buffer> {
  const opened = await sessionsStore().open(key, { range: { start, end } });
  if (!opened) throw new NotFoundError("The stored object is missing");
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * The first and last lines of a text file, reading at most two 64 KiB windows from storage,
 * so a multi-gigabyte log previews as fast as a small one.
 */
export async function readTextPreview(options: { ctx: TProjectContext; fileId: string }): Promise<TTextPreview> {
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
  const size = Number(file.size ?? 0);
  if (size === 0) return { size, truncated: false, head: [], tail: [], skippedBytes: 0 };
  if (size <= PREVIEW_WINDOW_BYTES * 2) {
    const lines = (await readRange(file.objectKey, 0, size - 1)).toString("utf8").split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    if (lines.length <= PREVIEW_LINES * 2) return { size, truncated: false, head: lines, tail: [], skippedBytes: 0 };
    return { size, truncated: true, head: lines.slice(0, PREVIEW_LINES), tail: lines.slice(-PREVIEW_LINES), skippedBytes: 0 };
  }
  const [headBytes, tailBytes] = await Promise.all([
    readRange(file.objectKey, 0, PREVIEW_WINDOW_BYTES - 1),
    readRange(file.objectKey, size - PREVIEW_WINDOW_BYTES, size - 1),
  ]);
  // Drop the partial line at each window's cut.
  const head = headBytes.toString("utf8").split(/\r?\n/).slice(0, -1).slice(0, PREVIEW_LINES);
  const tailLines = tailBytes.toString("utf8").split(/\r?\n/).slice(1);
  if (tailLines.at(-1) === "") tailLines.pop();
  return { size, truncated: true, head, tail: tailLines.slice(-PREVIEW_LINES), skippedBytes: size - 2 * PREVIEW_WINDOW_BYTES };
}
