/**
 * Stores (docs/protocol.md#stores) on the device: download from a named store (`file_download/request`, then a plain
 * HTTPS GET of the signed URL, written to a temporary file and renamed into place once its size
 * and MD5 ETag check out), and upload into a store (file_upload/request with `store`).
 */
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TDownloadResponse } from "@fleetdrop/shared/protocol/stores";
import type { FleetdropDevice } from "./client";
import { guessContentType } from "./content-type";
import { FleetdropError } from "./errors";
import { postForm, type TUploadProgress } from "./upload";

export type TDownloadInput = {
  store: string;
  /** Path in the store (per-device stores: inside this device's folder). */
  path: string;
  /** Local file to write (folders are created). */
  to: string;
  onProgress?: (progress: TUploadProgress) => void;
};

export type TDownloadResult = { path: string; size: number; etag: string; contentType?: string };

/** Asks for a download URL: `{url, expires_in, size, etag, …}`. */
export async function requestDownload(
  device: FleetdropDevice,
  input: { store: string; path: string; requestId?: string },
): Promise<TDownloadResponse> {
  return await device.request("downloadRequest", {
    store: input.store,
    path: input.path,
    ...(input.requestId ? { request_id: input.requestId } : {}),
  });
}

/** Downloads a store object to `to`; the file appears only once complete and verified. */
export async function downloadFile(device: FleetdropDevice, input: TDownloadInput): Promise<TDownloadResult> {
  const answer = await requestDownload(device, input);
  const target = path.resolve(input.to);
  await mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${randomUUID().slice(0, 8)}.part`;
  try {
    const response = await openUrl(answer.url);
    if ((response.statusCode ?? 0) !== 200) {
      response.resume();
      throw new FleetdropError(
        `storage answered ${response.statusCode} for the download of ${input.store}/${input.path}`,
        `HTTP${response.statusCode}`,
        response.statusCode ?? 0,
      );
    }
    const md5 = createHash("md5");
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        md5.update(chunk);
        input.onProgress?.({ sent: received, total: answer.size });
        callback(null, chunk);
      },
    });
    await pipeline(response, counter, createWriteStream(temp));
    if (received !== answer.size) {
      throw new FleetdropError(
        `the download of ${input.store}/${input.path} has ${received} bytes, ${answer.size} expected`,
        "size_mismatch",
        0,
      );
    }
    // A multipart upload's ETag is not an MD5 of the content ("…-3"); only plain ones are checked.
    const plain = /^"?([0-9a-f]{32})"?$/.exec(answer.etag);
    if (plain && plain[1] !== md5.digest("hex")) {
      throw new FleetdropError(
        `the download of ${input.store}/${input.path} does not match its ETag ${answer.etag}`,
        "checksum_mismatch",
        0,
      );
    }
    await rename(temp, target);
    return { path: target, size: received, etag: answer.etag, ...(answer.content_type ? { contentType: answer.content_type } : {}) };
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof FleetdropError) throw error;
    throw new FleetdropError(`download of ${input.store}/${input.path} failed: ${(error as Error).message}`, "network_error", 0);
  }
}

function openUrl(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith("https:") ? httpsGet : httpGet)(url, resolve);
    request.once("error", reject);
    request.setTimeout(30_000, () => request.destroy(new Error("no data for 30 s")));
  });
}

export type TStoreUploadInput = {
  store: string;
  /** Local file to send. */
  path: string;
  /** Path in the store (default: the file's base name); per-device stores: in this device's folder. */
  filename?: string;
  contentType?: string;
  onProgress?: (progress: TUploadProgress) => void;
};

/** Uploads a local file into a named store (e.g. a status report into `status`). */
export async function uploadToStore(
  device: FleetdropDevice,
  input: TStoreUploadInput,
): Promise<{ objectKey: string; size: number; etag?: string }> {
  const { size } = await stat(input.path);
  const filename = input.filename ?? path.basename(input.path);
  const contentType = input.contentType ?? guessContentType(filename);
  const form = await device.request("storeUpload", {
    store: input.store,
    filename,
    content_type: contentType,
    size_mb: Math.max(1, Math.ceil(size / (1024 * 1024))),
  });
  const stored = await postForm(form, { path: input.path, size, filename: path.basename(filename), contentType }, input.onProgress);
  const completed = (await device.request("uploadComplete", { object_key: form.object_key }).catch(() => null)) as { etag?: string } | null;
  return { objectKey: form.object_key, size, etag: completed?.etag ?? stored.etag };
}
