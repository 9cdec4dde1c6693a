import { describe, expect, it } from "vitest";
import { StoreConfigError } from "./config";
import { createNamedStores, fsStoresOf, type TNamedStoreBase } from "./named-stores";

const fsBase: TNamedStoreBase = {
  backend: "fs",
  bucket: "fleetdrop",
  region: "us-east-1",
  fs: {
    rootDir: "/var/lib/fleetdrop/storage",
    publicUrl: "http://127.0.0.1:9000",
    accessKeyId: "fleetdrop",
    secretAccessKey: "0123456789abcdef0123",
  },
};

function problemsOf(json: string | undefined, base: TNamedStoreBase = fsBase): string[] {
  try {
    createNamedStores(json, base);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreConfigError);
    expect((error as Error).message).toMatch(/^Invalid storage configuration for STORE_CONFIGURATION:/);
    return (error as StoreConfigError).problems;
  }
  throw new Error("expected a StoreConfigError");
}

describe("createNamedStores", () => {
  it("makes the five default stores in the sessions bucket, each under its own prefix", () => {
    const stores = createNamedStores(undefined, fsBase);
    expect([...stores.keys()]).toEqual(["config", "apps", "incoming", "contents", "status"]);
    expect(stores.get("config")).toMatchObject({ perDevice: true, deviceAccess: "read" });
    expect(stores.get("apps")).toMatchObject({ perDevice: false, deviceAccess: "read" });
    expect(stores.get("status")).toMatchObject({ perDevice: true, deviceAccess: "write" });
    expect(stores.get("incoming")!.store).toMatchObject({ backend: "fs", bucket: "fleetdrop", prefix: "incoming/" });
    expect(fsStoresOf(stores.values())).toHaveLength(5);
  });

  it("reads the spec's JSON, with s3 credentials and endpoint from the base settings", () => {
    const stores = createNamedStores(
      JSON.stringify([
        { store_name: "config", bucket_name: "fleet-config", region: "eu-west-1", prefix: "cfg" },
        {
          store_name: "apps",
          bucket_name: "fleet-apps",
          region: "eu-west-1",
          prefix: "",
          endpoint: "https://minio.example:9000",
          per_device: false,
          device_access: "read",
        },
      ]),
      {
        backend: "s3",
        bucket: "sessions-bucket",
        region: "us-east-1",
        s3: { accessKeyId: "AKIA", secretAccessKey: "secret", forcePathStyle: true },
      },
    );
    expect(stores.get("config")!.store).toMatchObject({ backend: "s3", bucket: "fleet-config", prefix: "cfg/" });
    expect(stores.get("apps")!.store).toMatchObject({ backend: "s3", bucket: "fleet-apps", prefix: "" });
  });

  it("reports every mistake at once, one line each, naming the entry", () => {
    const problems = problemsOf(
      JSON.stringify([
        { store_name: "Config", bucket_name: "b" },
        { store_name: "apps", buckett: "x" },
        { store_name: "status", device_access: "all", per_device: "yes" },
      ]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^\[0\] \(Config\) store_name: store_name must be 1 to 63 lower-case/),
      "[1] (apps): unknown setting(s): buckett",
      expect.stringMatching(/^\[2\] \(status\) per_device: per_device must be true or false/),
      expect.stringMatching(/^\[2\] \(status\) device_access: device_access must be "read", "write" or "read-write"/),
    ]);
  });

  it("reports mistakes of the JSON and of the stores it describes together, in list order", () => {
    expect(
      problemsOf(JSON.stringify([{ store_name: "config", prefix: "" }, { store_name: "apps", buckett: "x" }, { store_name: "config" }])),
    ).toEqual([
      '[0] (config): prefix "" would overlap the sessions store in bucket "fleetdrop"; give the store a prefix of its own',
      "[1] (apps): unknown setting(s): buckett",
      '[2] (config): store_name "config" is configured twice',
    ]);
  });

  it("refuses bad JSON, a non-array, an empty list, duplicates, overlaps and fs endpoints", () => {
    expect(problemsOf("{not json")[0]).toMatch(/^not valid JSON/);
    expect(problemsOf('{"store_name": "config"}')[0]).toMatch(/must be a JSON array/);
    expect(problemsOf("[]")[0]).toMatch(/at least one store/);
    expect(problemsOf(JSON.stringify([{ store_name: "config" }, { store_name: "config" }]))).toEqual([
      '[1] (config): store_name "config" is configured twice',
    ]);
    expect(problemsOf(JSON.stringify([{ store_name: "config", prefix: "" }]))[0]).toMatch(/would overlap the sessions store/);
    expect(problemsOf(JSON.stringify([{ store_name: "config", prefix: "sessions/x" }]))[0]).toMatch(/would overlap the sessions store/);
    expect(
      problemsOf(
        JSON.stringify([
          { store_name: "a", prefix: "x" },
          { store_name: "b", prefix: "x/" },
        ]),
      )[0],
    ).toMatch(/already used by store "a"/);
    expect(problemsOf(JSON.stringify([{ store_name: "a", endpoint: "http://x:9000" }]))[0]).toMatch(/endpoint is for s3 stores/);
    expect(problemsOf(JSON.stringify([{ store_name: "a", prefix: "../x" }]))[0]).toMatch(/prefix must be folder names/);
  });

  it("passes on the store's own validation, e.g. an fs bucket name", () => {
    expect(problemsOf(JSON.stringify([{ store_name: "config", bucket_name: "Bad_Bucket" }]))[0]).toMatch(
      /^\[0\] \(config\): bucket: bucket must be 3 to 63 lower-case/,
    );
    expect(
      problemsOf(JSON.stringify([{ store_name: "config", backend: "fs" }]), { backend: "s3", bucket: "b", region: "us-east-1" })[0],
    ).toMatch(/needs the fs settings/);
  });
});
