import { describe, expect, it } from "vitest";

import { createStore, parseStoreConfig, StoreConfigError } from "./config";
import { FsStore } from "./fs-store";
import { S3Store } from "./s3-store";

const fs = {
  backend: "fs",
  bucket: "uploads",
  rootDir: "/var/lib/fleetdrop",
  publicUrl: "http://192.168.1.5:9000",
  accessKeyId: "FLEETDROP",
  secretAccessKey: "0123456789abcdef",
} as const;

function problems(input: unknown): string[] {
  try {
    parseStoreConfig(input, 'store "uploads"');
  } catch (error) {
    expect(error).toBeInstanceOf(StoreConfigError);
    expect((error as Error).message).toContain('Invalid storage configuration for store "uploads"');
    return (error as StoreConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("store configuration", () => {
  it("creates an fs store with defaults and a normalised prefix", () => {
    const store = createStore({ ...fs, publicUrl: "http://192.168.1.5:9000/", prefix: "/config/" });
    expect(store).toBeInstanceOf(FsStore);
    expect([store.backend, store.bucket, store.prefix, store.publicUrl, store.region, store.uploadUrl]).toEqual([
      "fs",
      "uploads",
      "config/",
      "http://192.168.1.5:9000",
      "us-east-1",
      "http://192.168.1.5:9000/fs/uploads",
    ]);
  });

  it("creates an s3 store with or without keys", () => {
    const withKeys = createStore({ backend: "s3", bucket: "fleet", region: "eu-west-1", accessKeyId: "AK", secretAccessKey: "SK" });
    const withChain = createStore({
      backend: "s3",
      bucket: "fleet",
      region: "eu-west-1",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
    });
    expect(withKeys).toBeInstanceOf(S3Store);
    expect(withChain.prefix).toBe("");
    withKeys.destroy();
    withChain.destroy();
  });

  it("names every problem of a config, one line each, without echoing secrets", () => {
    const found = problems({
      backend: "fs",
      bucket: "Uploads_1",
      rootDir: "data",
      publicUrl: "ftp://x",
      accessKeyId: "a/b",
      secretAccessKey: "short-secret",
      colour: "blue",
    });
    expect(found).toEqual([
      expect.stringMatching(/^bucket: bucket must be 3 to 63 lower-case letters/),
      expect.stringMatching(/^rootDir: rootDir must be an absolute path/),
      expect.stringMatching(/^publicUrl: publicUrl must be an http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/^accessKeyId: accessKeyId must be 1 to 128 characters without spaces or \//),
      expect.stringMatching(/^secretAccessKey: secretAccessKey must be at least 16 characters/),
      "unknown setting(s) for an fs store: colour",
    ]);
    expect(found.join("\n")).not.toContain("short-secret");
  });

  it("explains each kind of mistake", () => {
    expect(problems(null)).toEqual(['the store configuration must be an object with a backend of "s3" or "fs"']);
    expect(problems({ backend: "gcs" })).toEqual(['backend: backend must be "s3" or "fs"']);
    expect(problems({ ...fs, rootDir: undefined })).toEqual([expect.stringMatching(/^rootDir: rootDir is required/)]);
    expect(problems({ ...fs, publicUrl: "http://x:9000/platform" })).toEqual([expect.stringMatching(/publicUrl must be an origin only/)]);
    expect(problems({ ...fs, prefix: "a/../b" })).toEqual([expect.stringMatching(/^prefix: prefix must be folder names/)]);
    expect(problems({ backend: "s3", bucket: "fleet", region: "eu-west-1", accessKeyId: "AK" })).toEqual([
      expect.stringMatching(/^secretAccessKey: accessKeyId and secretAccessKey go together/),
    ]);
    expect(problems({ backend: "s3", bucket: "fleet", region: "eu west" })).toEqual([
      expect.stringMatching(/^region: region must be a name/),
    ]);
    expect(problems({ backend: "s3", bucket: "fleet", region: "eu-west-1", endpoint: "minio:9000" })).toEqual([
      expect.stringMatching(/^endpoint: endpoint must be an http/),
    ]);
  });
});
