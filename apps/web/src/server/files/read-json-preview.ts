import "server-only";
import type { TProjectContext } from "@/server/auth/project-context";
import { previewedFile, readStoredBytes } from "./file-contents";

const MAX_JSON_PREVIEW_BYTES = 2 * 1024 * 1024;

/** A JSON file pretty-printed, when it is small enough to parse here; null when not JSON or too big. */
export async function readJsonPreview(options: { ctx: TProjectContext; fileId: string }): Promise<{ pretty: string } | null> {
  const file = await previewedFile(options.ctx, options.fileId);
  if (Number(file.size ?? 0) > MAX_JSON_PREVIEW_BYTES) return null;
  const bytes = await readStoredBytes(file.objectKey);
  try {
    return { pretty: JSON.stringify(JSON.parse(bytes.toString("utf8")), null, 2) };
  } catch {
    return null;
  }
}
