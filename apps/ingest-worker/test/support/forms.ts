/** Presigned form uploads as a device makes them, and an S3 store (s3rver) for the worker to use. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { postForm } from "@fleetdrop/device/upload";
import type { TUploadResponse } from "@fleetdrop/shared/protocol/upload";
import { createStore } from "@fleetdrop/storage/config";
import type { S3Store } from "@fleetdrop/storage/s3";
import { S3RVER_CREDENTIALS, startS3rver, stripBucketTrailingSlash } from "@fleetdrop/storage/testing/s3rver";

/** POSTs `content` with the form (from a file written in `dir`); resolves to the status and the S3 error code, if any. */
export async function postContent(upload: TUploadResponse, content: string, dir: string): Promise<{ status: number; code?: string }> {
  const file = path.join(dir, `body-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, content);
  try {
    const stored = await postForm(upload, {
      path: file,
      size: Buffer.byteLength(content),
      filename: "f",
      contentType: upload.fields["Content-Type"]!,
    });
    return { status: stored.status };
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return { status, code };
  }
}

/** s3rver with the bucket `fleetdrop`, its data in `dir`, and an S3 store on it; `stop` ends both. */
export async function startS3Store(dir: string): Promise<{ s3: S3Store; stop(): Promise<void> }> {
  const s3rver = await startS3rver(dir, ["fleetdrop"]);
  const s3 = createStore(
    { backend: "s3", bucket: "fleetdrop", region: "us-east-1", endpoint: s3rver.endpoint, forcePathStyle: true, ...S3RVER_CREDENTIALS },
    { s3: { configureClient: stripBucketTrailingSlash } },
  );
  return {
    s3,
    async stop() {
      s3.destroy();
      await s3rver.stop();
    },
  };
}
