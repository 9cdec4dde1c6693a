import "server-only";
import type { TProjectContext } from "@/server/auth/project-context";
import { previewedFile, readStoredBytes } from "./file-contents";

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

const readRange = (key: string, start: number, end: number) => readStoredBytes(key, { start, end });

/**
 * The first and last lines of a text file, reading at most two 64 KiB windows from storage,
 * so a multi-gigabyte log previews as fast as a small one.
 */
export async function readTextPreview(options: { ctx: TProjectContext; fileId: string }): Promise<TTextPreview> {
  const file = await previewedFile(options.ctx, options.fileId);
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
