/**
 * The web app and the ingest worker each build the sessions store and the named stores from the
 * same environment; a device's upload lands where the dashboard looks only if both build the
 * same stores. Each app parses the environment with its own parser here, as it does at start-up.
 */
import type { Store } from "@fleetdrop/storage/store";
import { describe, expect, it } from "vitest";
import { parseWebEnv } from "@/env";
import { parseWorkerEnv } from "../../../../ingest-worker/src/env";
import { namedStoresFromEnv as workerNamedStores } from "../../../../ingest-worker/src/stores/named-stores";
import { namedStoresFromEnv as webNamedStores } from "./named-stores";
import { sessionStoreConfig as webSessionStoreConfig } from "./sessions-store";
import { createStore } from "@fleetdrop/storage/config";
// The worker's index builds its sessions store with this function (its config module is not imported: it types the whole worker).
import { sessionStoreConfigFromEnv as workerSessionStoreConfig } from "@fleetdrop/storage/env";

/** What a device or a browser sees of a store: backend, bucket, prefix, and where its URLs point (endpoint, public URL, path style). */
async function seen(store: Store) {
  const url = new URL(await store.presignGet({ key: "probe/file.bin", expiresIn: 60 }));
  return { backend: store.backend, bucket: store.bucket, prefix: store.prefix, url: `${url.origin}${url.pathname}` };
}

async function seenNamed(stores: ReadonlyMap<string, { name: string; perDevice: boolean; deviceAccess: string; store: Store }>) {
  return Promise.all(
    [...stores.values()].map(async (entry) => ({
      name: entry.name,
      perDevice: entry.perDevice,
      deviceAccess: entry.deviceAccess,
      ...(await seen(entry.store)),
    })),
  );
}

const WEBHOOK_SECRET_KEY = "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=";

/** Both apps' stores from one environment (the variables docker-compose gives both, plus each app's own required ones). */
async function bothFrom(shared: Record<string, string>) {
  const web = parseWebEnv({ ...shared, NEXTAUTH_SECRET: "0123456789abcdef0123", WEBHOOK_SECRET_KEY });
  const worker = parseWorkerEnv({ ...shared, WEBHOOK_SECRET_KEY });
  return {
    web: { sessions: await seen(createStore(webSessionStoreConfig(web))), named: await seenNamed(webNamedStores(web)) },
    worker: { sessions: await seen(createStore(workerSessionStoreConfig(worker))), named: await seenNamed(workerNamedStores(worker)) },
  };
}

const database = { DATABASE_URL: "postgresql://fleetdrop@127.0.0.1:5432/fleetdrop" };

describe("the web app's and the worker's stores from one environment", () => {
  it("are the same fs stores, with the documented public URL when FS_PUBLIC_URL is unset (whatever the worker's HTTP_PORT)", async () => {
    const { web, worker } = await bothFrom({
      ...database,
      HTTP_PORT: "9100",
      FS_SECRET_ACCESS_KEY: "fs-secret-0123456789",
      FS_STORE_DIR: "/var/lib/fleetdrop",
    });
    expect(web).toEqual(worker);
    expect(worker.sessions).toMatchObject({ backend: "fs", bucket: "fleetdrop" });
    expect(worker.sessions.url.startsWith("http://localhost:9000/")).toBe(true);
    expect(worker.named.map((entry) => entry.name)).toEqual(["config", "apps", "incoming", "contents", "status"]);
  });

  it("are the same fs stores with a bucket, public URL and named stores of its own", async () => {
    const { web, worker } = await bothFrom({
      ...database,
      FS_SECRET_ACCESS_KEY: "fs-secret-0123456789",
      FS_BUCKET: "robots",
      FS_PUBLIC_URL: "http://192.168.1.5:9100",
      STORE_CONFIGURATION:
        '[{"store_name": "config", "prefix": "cfg"}, ' +
        '{"store_name": "logs", "bucket_name": "fleet-logs", "per_device": true, "device_access": "write"}]',
    });
    expect(web).toEqual(worker);
    expect(worker.named.find((entry) => entry.name === "logs")).toMatchObject({
      bucket: "fleet-logs",
      perDevice: true,
      deviceAccess: "write",
    });
    expect(worker.sessions.url.startsWith("http://192.168.1.5:9100/fs/robots/")).toBe(true);
  });

  it("are the same s3 stores: endpoint, region and path style (yes/no, true/false, 1/0 in both)", async () => {
    for (const forcePathStyle of ["yes", "true", "1", "no", "false", "0"]) {
      const { web, worker } = await bothFrom({
        ...database,
        STORAGE_BACKEND: "s3",
        S3_BUCKET: "robot-files",
        S3_REGION: "eu-west-1",
        S3_ENDPOINT: "http://minio.internal:9000",
        S3_FORCE_PATH_STYLE: forcePathStyle,
        S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
        S3_SECRET_ACCESS_KEY: "secret",
        STORE_CONFIGURATION: '[{"store_name": "config", "bucket_name": "fleet-config"}, {"store_name": "status", "prefix": "st"}]',
      });
      expect(web, forcePathStyle).toEqual(worker);
      const pathStyle = ["yes", "true", "1"].includes(forcePathStyle);
      expect(worker.sessions.url, forcePathStyle).toBe(
        pathStyle ? "http://minio.internal:9000/robot-files/probe/file.bin" : "http://robot-files.minio.internal:9000/probe/file.bin",
      );
    }
  });

  it("are refused alike: a bucket name no store can use fails both apps' validation", () => {
    const shared = { ...database, FS_SECRET_ACCESS_KEY: "fs-secret-0123456789", FS_BUCKET: "Robots_Files" };
    expect(() => parseWebEnv({ ...shared, NEXTAUTH_SECRET: "0123456789abcdef0123", WEBHOOK_SECRET_KEY })).toThrow(/FS_BUCKET/);
    expect(() => parseWorkerEnv(shared)).toThrow(/FS_BUCKET/);
  });
});
