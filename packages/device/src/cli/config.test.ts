import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findConfigFile, loadConfigFile, resolveConnection } from "./config";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "fd-cli-config-"));
  await mkdir(path.join(root, ".fleetdrop"));
  await mkdir(path.join(root, "a", "b"), { recursive: true });
  await writeFile(
    path.join(root, ".fleetdrop", "device.json"),
    JSON.stringify({ url: "mqtt://file:1883", deviceId: "FILE-DEV", password: "pw-file", sessionId: 7, ca: "certs/ca.pem" }),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("device config", () => {
  it("finds .fleetdrop/device.json in the folder the user ran from or a parent", () => {
    expect(findConfigFile(undefined, { INIT_CWD: path.join(root, "a", "b") })).toBe(path.join(root, ".fleetdrop", "device.json"));
    expect(findConfigFile("x.json", { INIT_CWD: root })).toBe(path.join(root, "x.json"));
    expect(findConfigFile(undefined, { INIT_CWD: root, FLEETDROP_DEVICE_CONFIG: "other.json" })).toBe(path.join(root, "other.json"));
  });

  it("resolves certificate paths relative to the config file", () => {
    const config = loadConfigFile(path.join(root, ".fleetdrop", "device.json"));
    expect(config.ca).toBe(path.join(root, ".fleetdrop", "certs", "ca.pem"));
    expect(config.sessionId).toBe(7);
  });

  it("says which file it could not read", () => {
    expect(() => loadConfigFile(path.join(root, "missing.json"))).toThrow(/cannot read the device config .*missing\.json/);
  });

  it("takes flags over the environment over the file", () => {
    const file = loadConfigFile(path.join(root, ".fleetdrop", "device.json"));
    const env = { FLEETDROP_URL: "mqtt://env:1883", FLEETDROP_DEVICE: "ENV-DEV" };
    expect(resolveConnection({}, file, {})).toMatchObject({ url: "mqtt://file:1883", deviceId: "FILE-DEV", password: "pw-file" });
    expect(resolveConnection({}, file, env)).toMatchObject({ url: "mqtt://env:1883", deviceId: "ENV-DEV", password: "pw-file" });
    expect(resolveConnection({ url: "mqtt://flag:1", device: "FLAG-DEV", timeout: "2", "mqtt-version": "4" }, file, env)).toMatchObject({
      url: "mqtt://flag:1",
      deviceId: "FLAG-DEV",
      timeoutMs: 2000,
      protocolVersion: 4,
    });
  });

  it("refuses a missing device id and a wrong MQTT version with a sentence", () => {
    expect(() => resolveConnection({}, {}, {})).toThrow(/which device\?/);
    expect(() => resolveConnection({ device: "D", "mqtt-version": "3" }, {}, {})).toThrow(/--mqtt-version is 4/);
    expect(() => resolveConnection({ device: "D", "rate-limit-retries": "many" }, {}, {})).toThrow(
      /--rate-limit-retries is a whole number/,
    );
  });

  it("passes --rate-limit-retries to the SDK", () => {
    expect(resolveConnection({ device: "D", "rate-limit-retries": "0" }, {}, {})).toMatchObject({ rateLimitRetries: 0 });
    expect(resolveConnection({ device: "D" }, {}, {})).not.toHaveProperty("rateLimitRetries");
  });
});
