import { parseWorkerEnv } from "@fleetdrop/ingest-worker/env";
import { describe, expect, it } from "vitest";
import { parseWebEnv } from "../../web/src/env";
import { webEnvironment, workerEnvironment, type TChildEnvInput } from "./child-env";
import { parseStandaloneEnv } from "./env";

const web = { url: "http://robot-lab:3000", nextAuthSecret: "0123456789abcdef0123" };

function children(overrides: Partial<TChildEnvInput>): TChildEnvInput {
  return {
    databaseUrl: "postgresql://fleetdrop:pw@127.0.0.1:5433/fleetdrop",
    mqttUrl: "mqtt://127.0.0.1:1883",
    topicPrefix: "lab",
    worker: { username: "fleetdrop-ingest:embedded", password: "worker-pw", protocolVersion: 4 },
    web: { username: "fleetdrop-web:embedded", password: "web-pw" },
    embeddedBrokerUrl: "mqtt://robot-lab:1883",
    storage: { backend: "fs", storeDir: "/data/storage", publicUrl: "http://robot-lab:9000", secretAccessKey: "fs-secret-0123456789" },
    workerHttpPort: 9000,
    transferStagingDir: "/data/transfer-staging",
    logLevel: "warn",
    webhookSecretKey: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
    ...overrides,
  };
}

describe("the children's environments", () => {
  it("pass the worker's and the web app's own validation and carry the embedded platform's settings", () => {
    const input = children({});
    const worker = parseWorkerEnv(workerEnvironment(input));
    expect(worker).toMatchObject({
      MQTT_URL: "mqtt://127.0.0.1:1883",
      MQTT_USERNAME: "fleetdrop-ingest:embedded",
      MQTT_PROTOCOL_VERSION: 4,
      MQTT_CLIENT_ID: "fleetdrop-ingest:embedded",
      TOPIC_PREFIX: "lab",
      HTTP_PORT: 9000,
      LOG_LEVEL: "warn",
      STORAGE_BACKEND: "fs",
      FS_STORE_DIR: "/data/storage",
      FS_PUBLIC_URL: "http://robot-lab:9000",
      TRANSFER_STAGING_DIR: "/data/transfer-staging",
    });
    const webEnv = parseWebEnv(webEnvironment(input, web));
    expect(webEnv).toMatchObject({
      NODE_ENV: "production",
      NEXTAUTH_URL: "http://robot-lab:3000",
      MQTT_USERNAME: "fleetdrop-web:embedded",
      TOPIC_PREFIX: "lab",
      BROKER_PASSWORD_URL: "mqtt://robot-lab:1883",
      BROKER_PROTOCOL_VERSION: 4,
      FS_PUBLIC_URL: "http://robot-lab:9000",
      FS_SECRET_ACCESS_KEY: "fs-secret-0123456789",
    });
  });

  it("pass the operator's S3 settings, as validated once, to both children", () => {
    const settings = parseStandaloneEnv({
      ADMIN_PASSWORD: "admin-password",
      WEB_PORT: "3001",
      STORAGE_BACKEND: "s3",
      S3_BUCKET: "robot-files",
      S3_ENDPOINT: "http://minio:9000",
      S3_FORCE_PATH_STYLE: "yes",
      S3_ACCESS_KEY_ID: "AKID",
      S3_SECRET_ACCESS_KEY: "secret",
    });
    const input = children({ storage: { backend: "s3", settings }, embeddedBrokerUrl: undefined, transferStagingDir: undefined });
    const expected = {
      STORAGE_BACKEND: "s3",
      S3_BUCKET: "robot-files",
      S3_ENDPOINT: "http://minio:9000",
      S3_FORCE_PATH_STYLE: true,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: "AKID",
    };
    expect(parseWorkerEnv(workerEnvironment(input))).toMatchObject(expected);
    const webEnv = parseWebEnv(webEnvironment(input, web));
    expect(webEnv).toMatchObject(expected);
    expect(webEnv.BROKER_PASSWORD_URL).toBeUndefined();
    // Only the storage settings travel, not the rest of the platform's environment.
    for (const variables of [workerEnvironment(input), webEnvironment(input, web)]) {
      expect(
        Object.keys(variables).filter(
          (name) => !/^(S3_|STORAGE_|STORE_|DATABASE_|MQTT_|TOPIC_|HTTP_|LOG_|NODE_|NEXTAUTH_|WEBHOOK_SECRET_KEY$)/.test(name),
        ),
      ).toEqual([]);
    }
  });

  it("are refused at the platform's start when the S3 settings are wrong, not in a child", () => {
    expect(() => parseStandaloneEnv({ STORAGE_BACKEND: "s3" })).toThrow(/S3_BUCKET: S3_BUCKET is required/);
    expect(() => parseStandaloneEnv({ STORAGE_BACKEND: "s3", S3_BUCKET: "b", S3_FORCE_PATH_STYLE: "maybe" })).toThrow(
      /S3_FORCE_PATH_STYLE/,
    );
    expect(parseStandaloneEnv({}).STORAGE_BACKEND).toBe("fs");
  });
});
