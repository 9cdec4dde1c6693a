/**
 * What only the s3 store does against s3rver: its client's configuration (multipart part size,
 * timeouts, a missing bucket). What every store does is the Store contract
 * (store-contract.integration.test.ts).
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createStore } from "./config";
import type { S3Store } from "./s3-store";
import { StorageUnavailableError } from "./store";
import { S3RVER_CREDENTIALS, startS3rver, stripBucketTrailingSlash } from "./test-support/s3rver";
import type { TRunningS3rver } from "./test-support/s3rver";
import { makeTempDir } from "./test-support/temp-dir";

const BUCKET = "fleetdrop-test";
let temp: { dir: string; remove: () => Promise<void> };
let s3rver: TRunningS3rver;
let store: S3Store;
const extraStores: S3Store[] = [];

function s3Store(endpoint: string, overrides: Record<string, unknown> = {}): S3Store {
  const created = createStore(
    { backend: "s3", bucket: BUCKET, region: "us-east-1", endpoint, forcePathStyle: true, ...S3RVER_CREDENTIALS, ...overrides },
    { s3: { configureClient: stripBucketTrailingSlash, timeouts: { connectionTimeoutMs: 1000, requestTimeoutMs: 3000 } } },
  );
  extraStores.push(created);
  return created;
}

beforeAll(async () => {
  temp = await makeTempDir("s3rver");
  s3rver = await startS3rver(temp.dir, [BUCKET]);
  store = s3Store(s3rver.endpoint);
});

afterAll(async () => {
  for (const created of extraStores) created.destroy();
  await s3rver.stop();
  await temp.remove();
});

describe("S3Store against s3rver", () => {
  it("pings the bucket, and says so when it does not exist", async () => {
    await store.ping();
    await expect(s3Store(s3rver.endpoint, { bucket: "no-such-bucket" }).ping()).rejects.toThrow(/does not exist/);
  });

  it("streams a body larger than one part through a multipart upload", async () => {
    const chunk = randomBytes(1024 * 1024);
    const total = 9; // 9 MiB > the 8 MiB part size
    const info = await store.put("rt/multipart.bin", Readable.from(Array.from({ length: total }, () => chunk)), {
      contentType: "application/octet-stream",
    });
    expect(info.size).toBe(total * chunk.length);
    const opened = await store.open("rt/multipart.bin", { range: { start: chunk.length - 2, end: chunk.length + 1 } });
    expect(opened && (await buffer(opened.body))).toEqual(Buffer.concat([chunk.subarray(-2), chunk.subarray(0, 2)]));
  });

  it("throws StorageUnavailableError promptly once the server is gone", async () => {
    const gone = await startS3rver(temp.dir, [BUCKET]);
    const doomed = s3Store(gone.endpoint);
    await doomed.ping();
    await gone.stop();
    const started = Date.now();
    for (const operation of [
      () => doomed.ping(),
      () => doomed.head("x"),
      () => doomed.put("x", "y", { contentType: "text/plain" }),
      () => doomed.list(""),
    ]) {
      await expect(operation()).rejects.toBeInstanceOf(StorageUnavailableError);
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
