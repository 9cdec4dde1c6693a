/** The worker process refuses a bad STORE_CONFIGURATION before it connects to anything. */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const TSX = createRequire(import.meta.url).resolve("tsx/cli");

function runWorker(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX, ENTRY], {
      env: {
        PATH: process.env.PATH ?? "",
        // Nothing listens here: the worker must stop at the configuration, before connecting.
        DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none",
        MQTT_URL: "mqtt://127.0.0.1:1",
        FS_SECRET_ACCESS_KEY: "worker-secret-0123456789",
        WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
        FS_STORE_DIR: "/tmp/fleetdrop-never-created",
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("STORE_CONFIGURATION at start-up", () => {
  it("exits with status 2 and one line per mistake", async () => {
    const result = await runWorker({
      STORE_CONFIGURATION: JSON.stringify([
        { store_name: "config", prefix: "" },
        { store_name: "apps", buckett: "x" },
        { store_name: "status", endpoint: "http://minio:9000" },
      ]),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Invalid storage configuration for STORE_CONFIGURATION:");
    // Mistakes of the JSON and of the stores it describes come together, in list order.
    expect(result.stderr.split("\n").filter((line) => line.startsWith("  - "))).toEqual([
      '  - [0] (config): prefix "" would overlap the sessions store in bucket "fleetdrop"; give the store a prefix of its own',
      "  - [1] (apps): unknown setting(s): buckett",
      "  - [2] (status): endpoint is for s3 stores (an fs store is served at FS_PUBLIC_URL)",
    ]);
  });

  it("says so when the value is not JSON at all", async () => {
    const result = await runWorker({ STORE_CONFIGURATION: "[{store_name: config}]" });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ {2}- not valid JSON \(.*\); expected an array of \{"store_name", "bucket_name", "region", "prefix"\}/);
  });
});
