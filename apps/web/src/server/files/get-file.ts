import "server-only";
import { CAN } from "@/lib/roles";
import { fileKind } from "@/lib/file-kind";
import type { TFileKind, TFileState } from "@/lib/list-queries";
import { db } from "@/server/db";
import { NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TFileDetail = {
  id: string;
  sessionId: number;
  sessionName: string;
  deviceSerial: string;
  filename: string;
  name: string;
  objectKey: string;
  contentType: string;
  kind: TFileKind;
  state: TFileState;
  size: string | null;
  etag: string | null;
  /** SHA-256 (hex) of the stored bytes (checked against the device's, or computed); null: not known (yet). */
  sha256: string | null;
  /** `form`, `agent`, `multipart`, `mqtt_transfer`; null for files recorded before this was kept. */
  arrivedVia: string | null;
  uploadedAt: string | null;
  createdAt: string;
  expiresAt: string;
  /** JSON the device attached (the `user_data` of a file_transfer init), pretty-printed; null when none. */
  userData: string | null;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A file of the context's project, or 404 (also for ids of other projects' files). */
export async function getFile(options: { ctx: TProjectContext; fileId: string; sessionId?: number }): Promise<TFileDetail> {
  requireRole(options.ctx, CAN.browse);
  if (!UUID.test(options.fileId)) throw new NotFoundError("No such file");
  const file = await db().file.findFirst({
    where: {
      id: options.fileId,
      session: { projectId: options.ctx.project.id },
      ...(options.sessionId ? { sessionId: options.sessionId } : {}),
    },
    select: {
      id: true,
      sessionId: true,
      filename: true,
      objectKey: true,
      contentType: true,
      storedContentType: true,
      state: true,
      size: true,
      etag: true,
      sha256: true,
      arrivedVia: true,
      uploadedAt: true,
      createdAt: true,
      expiresAt: true,
      userData: true,
      session: { select: { name: true, device: { select: { serial: true } } } },
    },
  });
  if (!file) throw new NotFoundError("No such file");
  const contentType = file.storedContentType ?? file.contentType;
  return {
    id: file.id,
    sessionId: file.sessionId,
    sessionName: file.session.name,
    deviceSerial: file.session.device.serial,
    filename: file.filename,
    name: file.filename.slice(file.filename.lastIndexOf("/") + 1),
    objectKey: file.objectKey,
    contentType,
    kind: fileKind(file.filename, contentType),
    state: file.state,
    size: file.size?.toString() ?? null,
    etag: file.etag,
    sha256: file.sha256,
    arrivedVia: file.arrivedVia,
    uploadedAt: file.uploadedAt?.toISOString() ?? null,
    createdAt: file.createdAt.toISOString(),
    expiresAt: file.expiresAt.toISOString(),
    userData: file.userData === null ? null : JSON.stringify(file.userData, null, 2),
  };
}
