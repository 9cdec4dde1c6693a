import { describe, expect, it } from "vitest";
import { workerConfigFromEnv } from "./config";
import { EnvError, parseWorkerEnv } from "./env";
import { DEFAULT_RATE_LIMITS } from "./rate-limit";

const base = {
  DATABASE_URL: "postgresql://127.0.0.1/fleetdrop",
  FS_SECRET_ACCESS_KEY: "a-secret-of-sixteen-chars",
  WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
};

describe("rate limit and recovery settings", () => {
  it("default to the documented limits and a 60 s recovery window", () => {
    const config = workerConfigFromEnv(parseWorkerEnv(base));
    expect(config.rateLimits).toBeUndefined();
    expect(config.sweepIntervalMs).toBe(10_000);
    expect(config.recovery).toEqual({ pendingRecheckMaxMs: 50_000, staleTempFileMs: 40_000 });
  });

  it("take RATE_LIMITS as JSON overrides or off, and refuse anything else with a sentence", () => {
    const config = workerConfigFromEnv(parseWorkerEnv({ ...base, RATE_LIMITS: '{"chunk":{"burst":50,"per_second":5}}' }));
    expect(config.rateLimits).toEqual({ ...DEFAULT_RATE_LIMITS, chunk: { burst: 50, perSecond: 5 } });
    expect(workerConfigFromEnv(parseWorkerEnv({ ...base, RATE_LIMITS: "off" })).rateLimits).toBeNull();
    expect(() => parseWorkerEnv({ ...base, RATE_LIMITS: "fast" })).toThrow(/RATE_LIMITS: must be JSON such as .*, or off/);
    expect(() => parseWorkerEnv({ ...base, RATE_LIMITS: '{"chunks":{"burst":1,"per_second":1}}' })).toThrow(
      /RATE_LIMITS: value: Unrecognized key: "chunks" \(classes: session, upload/,
    );
    expect(() => parseWorkerEnv({ ...base, RATE_LIMITS: '{"chunk":{"burst":0,"per_second":1}}' })).toThrow(EnvError);
  });

  it("keep the sweeper's interval within half the recovery window", () => {
    const config = workerConfigFromEnv(parseWorkerEnv({ ...base, PENDING_RECOVERY_SECONDS: "20", SWEEP_INTERVAL_SECONDS: "5" }));
    expect(config.recovery).toMatchObject({ pendingRecheckMaxMs: 15_000 });
    expect(() => parseWorkerEnv({ ...base, PENDING_RECOVERY_SECONDS: "20", SWEEP_INTERVAL_SECONDS: "15" })).toThrow(
      /SWEEP_INTERVAL_SECONDS: must be at most half of PENDING_RECOVERY_SECONDS/,
    );
    expect(() => parseWorkerEnv({ ...base, STALE_TEMP_FILE_SECONDS: "5" })).toThrow(/STALE_TEMP_FILE_SECONDS/);
  });
});

describe("the worker's client id", () => {
  it("follows from a service account, and refuses another one with it", () => {
    expect(parseWorkerEnv({ ...base, MQTT_USERNAME: "fleetdrop-ingest:2" }).MQTT_CLIENT_ID).toBe("fleetdrop-ingest:2");
    expect(parseWorkerEnv({ ...base, MQTT_USERNAME: "fleetdrop-ingest:2", MQTT_CLIENT_ID: "fleetdrop-ingest:2" }).MQTT_CLIENT_ID).toBe(
      "fleetdrop-ingest:2",
    );
    expect(() => parseWorkerEnv({ ...base, MQTT_USERNAME: "fleetdrop-ingest:1", MQTT_CLIENT_ID: "fleetdrop-ingest:2" })).toThrow(
      /MQTT_CLIENT_ID: must be MQTT_USERNAME \(fleetdrop-ingest:1\) or unset/,
    );
  });

  it("is MQTT_CLIENT_ID or the host's name on a broker whose account is no client id, and never a device id", () => {
    expect(parseWorkerEnv({ ...base, MQTT_USERNAME: "fleetdrop-worker", MQTT_CLIENT_ID: "fleetdrop-ingest:a" }).MQTT_CLIENT_ID).toBe(
      "fleetdrop-ingest:a",
    );
    expect(parseWorkerEnv({ ...base, MQTT_USERNAME: "fleetdrop-worker" }).MQTT_CLIENT_ID).toMatch(/^fleetdrop-ingest:/);
    expect(() => parseWorkerEnv({ ...base, MQTT_CLIENT_ID: "ROBOT-1" })).toThrow(/MQTT_CLIENT_ID: must be printable ASCII/);
  });
});

describe("the webhook secret key", () => {
  it("is 32 bytes when set, refused with how to make one otherwise, and optional (sealed secrets then cannot sign)", () => {
    expect(workerConfigFromEnv(parseWorkerEnv(base)).webhooks?.secretBox?.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(() => parseWorkerEnv({ ...base, WEBHOOK_SECRET_KEY: "c2hvcnQ=" })).toThrow(
      /WEBHOOK_SECRET_KEY must be 32 random bytes, base64 or hex \(e\.g\. `openssl rand -base64 32`\); got 5 bytes/,
    );
    const { WEBHOOK_SECRET_KEY: _unset, ...without } = base;
    expect(workerConfigFromEnv(parseWorkerEnv(without)).webhooks?.secretBox).toBeUndefined();
  });
});
