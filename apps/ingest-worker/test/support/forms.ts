/** Presigned form uploads as a device makes them, and a worker that stores in S3 (s3rver). */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { postForm } from "@fleetdrop/device/upload";
import type { TUploadResponse } from "@fleetdrop/shared/protocol/upload";
import { createStore } from "@fleetdrop/storage/config";
import type { S3Store } from "@fleetdrop/storage/s3";
import { S3RVER_CREDENTIALS, startS3rver, stripBucketTrailingSlash, type TRunningS3rver } from "@fleetdrop/storage/testing/s3rver";
import { createHarness, rawDevice } from "../harness";

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

/**
 * A harness whose worker stores in S3 (s3rver, its data in `dir`), and ROBOT-A connected to it;
 * `close` stops them all.
 */
export async function startS3Worker(label: string, dir: string) {
  const h = await createHarness(label);
  let s3rver: TRunningS3rver | undefined;
  let s3: S3Store | undefined;
  try {
    s3rver = await startS3rver(dir, ["fleetdrop"]);
    s3 = createStore(
      { backend: "s3", bucket: "fleetdrop", region: "us-east-1", endpoint: s3rver.endpoint, forcePathStyle: true, ...S3RVER_CREDENTIALS },
      { s3: { configureClient: stripBucketTrailingSlash } },
    );
    await h.startWorker({}, { store: s3 });
    const a = await rawDevice(h.broker, "ROBOT-A");
    const store = s3;
    const server = s3rver;
    return {
      h,
      a,
      s3: store,
      async close() {
        await a.close();
        await h.close();
        store.destroy();
        await server.stop();
      },
    };
  } catch (error) {
    await h.close();
    s3?.destroy();
    await s3rver?.stop();
    throw error;
  }
}
