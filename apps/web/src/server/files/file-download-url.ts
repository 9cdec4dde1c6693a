import "server-only";
import { env } from "@/env";
import { CAN } from "@/lib/roles";
import { UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { sessionsStore } from "@/server/stores/sessions-store";
import { getFile, type TFileDetail } from "./get-file";

/** A presigned GET of the file's object, valid for DOWNLOAD_URL_TTL_SECONDS. */
export async function presignFileGet(file: TFileDetail, disposition: "attachment" | "inline", contentType: string): Promise<string> {
  return sessionsStore().presignGet({
    key: file.objectKey,
    expiresIn: env.DOWNLOAD_URL_TTL_SECONDS,
    downloadName: file.name,
    disposition,
    contentType,
  });
}

/** The audit entry of a download, whichever way the bytes go. */
export function downloadAudit(file: TFileDetail) {
  return {
    action: "file.download",
    targetType: "file",
    targetId: file.id,
    details: { session: file.sessionId, filename: file.filename, size: file.size },
  } as const;
}

/**
 * A short-lived URL that downloads the file without further credentials (the REST API's
 * download): the same role as a dashboard download (CAN.download), and written to the audit log
 * as a download when the URL is handed out.
 */
export async function createFileDownloadUrl(options: {
  ctx: TProjectContext;
  fileId: string;
  now?: Date;
}): Promise<{ url: string; expiresAt: string }> {
  const { ctx } = options;
  requireRole(ctx, CAN.download);
  const file = await getFile({ ctx, fileId: options.fileId });
  if (file.state !== "uploaded") throw new UserInputError(`The file is ${file.state}, not uploaded: there is nothing to download`);
  const now = options.now ?? new Date();
  const url = await presignFileGet(file, "attachment", file.contentType);
  await writeAudit(ctx, downloadAudit(file));
  return { url, expiresAt: new Date(now.getTime() + env.DOWNLOAD_URL_TTL_SECONDS * 1000).toISOString() };
}
