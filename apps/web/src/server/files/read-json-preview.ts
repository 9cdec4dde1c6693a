import "server-only";
import { CAN } from "@/lib/roles";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { sessionsStore } from "@/server/storage/sessions-store";
import { getFile } from "./get-file";

export const MAX_JSON_PREVIEW_BYTES = 2 * 1024 * 1024;

/** A JSON file pretty-printed, when it is small enough to parse here; null when not JSON or too big. */
export async function readJsonPreview(options: { ctx: TProjectContext; fileId: string }): Promise<{ pretty: string } | null> {
  requireRole(options.ctx, CAN.browse);
  const file = await getFile({ ctx: options.ctx, fileId: options.fileId });
  if (file.state !== "uploaded") throw new NotFoundError("The file is not uploaded");
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
