/**
 * Named s3 stores from the documented JSON against s3rver: the endpoint comes from the JSON, the
 * credentials from the base settings, and per-device prefixes hold through a real presigned
 * POST and a real presigned GET.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamedStores } from "./named-stores";
import type { S3Store } from "./s3-store";
import { postMultipart, request } from "./test-support/http-client";
import { formParts, multipartBody } from "./test-support/multipart";
import { S3RVER_CREDENTIALS, startS3rver, stripBucketTrailingSlash, type TRunningS3rver } from "./test-support/s3rver";
import { makeTempDir } from "./test-support/temp-dir";

let temp: { dir: string; remove: () => Promise<void> };
let s3rver: TRunningS3rver;
let stores: ReturnType<typeof createNamedStores>;

beforeAll(async () => {
  temp = await makeTempDir("s3rver-named");
  s3rver = await startS3rver(temp.dir, ["fleet-config", "fleet-apps"]);
  stores = createNamedStores(
    JSON.stringify([
      { store_name: "config", bucket_name: "fleet-config", region: "us-east-1", prefix: "config", endpoint: s3rver.endpoint },
      { store_name: "status", bucket_name: "fleet-config", region: "us-east-1", prefix: "status", endpoint: s3rver.endpoint },
      { store_name: "apps", bucket_name: "fleet-apps", region: "us-east-1", prefix: "", endpoint: s3rver.endpoint },
    ]),
    { backend: "s3", bucket: "sessions", region: "us-east-1", s3: { forcePathStyle: true, ...S3RVER_CREDENTIALS } },
    { s3: { configureClient: stripBucketTrailingSlash, timeouts: { connectionTimeoutMs: 1000, requestTimeoutMs: 3000 } } },
  );
});

afterAll(async () => {
  for (const entry of stores?.values() ?? []) (entry.store as S3Store).destroy();
  await s3rver?.stop();
  await temp?.remove();
});

describe("named s3 stores", () => {
  it("share a bucket under their own prefixes, and sign GETs that serve the object", async () => {
    const config = stores.get("config")!;
    expect(config).toMatchObject({ perDevice: true, deviceAccess: "read" });
    await config.store.put("ROBOT-A/robot.yaml", "speed: 3\n", { contentType: "application/yaml" });
    expect(await stores.get("status")!.store.head("ROBOT-A/robot.yaml")).toBeNull();
    const url = await config.store.presignGet({ key: "ROBOT-A/robot.yaml", expiresIn: 300 });
    expect(url.startsWith(`${s3rver.endpoint}/fleet-config/config/ROBOT-A/robot.yaml?`)).toBe(true);
    const response = await request(url);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe("speed: 3\n");
  });

  it("take a device's report through a presigned POST into the write store's prefix", async () => {
    const status = stores.get("status")!;
    const form = await status.store.presignPost({
      key: "ROBOT-A/monitor/last_monitoring_status.json",
      contentType: "application/json",
      maxBytes: 1024 * 1024,
      expiresIn: 600,
    });
    const body = Buffer.from(JSON.stringify({ general_status: "success", commands: [] }));
    const result = await postMultipart(
      form.url,
      multipartBody(formParts(form.fields, body, "last_monitoring_status.json", "application/json")),
    );
    expect(result.status, result.body.toString()).toBe(204);
    expect(await status.store.head("ROBOT-A/monitor/last_monitoring_status.json")).toMatchObject({
      size: body.length,
      contentType: "application/json",
    });
  });

  it("keep a shared store with an empty prefix in its own bucket", async () => {
    const apps = stores.get("apps")!;
    expect(apps).toMatchObject({ perDevice: false });
    const bytes = randomBytes(2048);
    await apps.store.put("nav/1.0/nav.tgz", bytes, { contentType: "application/gzip" });
    const response = await request(await apps.store.presignGet({ key: "nav/1.0/nav.tgz", expiresIn: 300 }));
    expect(Buffer.compare(response.body, bytes)).toBe(0);
  });
});
