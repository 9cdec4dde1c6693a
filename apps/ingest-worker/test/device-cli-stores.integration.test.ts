/**
 * The command line's store and command verbs against the real worker, Mosquitto and fs store:
 * `download`, `commands fetch`, `commands run` (real shell), `commands report`, and their
 * errors and exit codes.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type THarness } from "./harness";
import { runDeviceCli } from "./support/device-cli";

let h: THarness;
let tmp: string;

beforeAll(async () => {
  h = await createHarness("devcli");
  await h.startWorker();
  tmp = await mkdtemp(path.join(tmpdir(), "fd-devcli-"));
});

afterAll(async () => {
  await h?.close();
});

const cli = (args: string[]) =>
  runDeviceCli([...args, "--url", h.broker.url, "--device", "ROBOT-A", "--timeout", "5"], {
    cwd: tmp,
    env: { FLEETDROP_DEVICE_CONFIG: "" },
  });

describe("fleetdrop-device download / commands", () => {
  it("downloads a store object to a file, and exits 1 with the code when it is not there", async () => {
    await h.namedStores.get("config")!.store.put("ROBOT-A/robot.yaml", "speed: 3\n", { contentType: "application/yaml" });
    const ok = await cli(["download", "--store", "config", "robot.yaml", "-o", "out/robot.yaml"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^downloaded config\/robot.yaml \(9 B, ETag "[0-9a-f]{32}"\) → /);
    expect(await readFile(path.join(tmp, "out/robot.yaml"), "utf8")).toBe("speed: 3\n");

    const missing = await cli(["download", "--store", "config", "nope.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("[object_not_found]");
    const usage = await cli(["download", "robot.yaml"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("which store?");
  });

  it("fetches, runs (in order, in the shell) and reports a service's commands", async () => {
    await h.namedStores
      .get("incoming")!
      .store.put("ROBOT-A/monitor/commands.json", JSON.stringify([{ command: "echo alpha" }, { command: "echo beta" }]), {
        contentType: "application/json",
      });
    const fetched = await cli(["commands", "fetch", "--service", "monitor"]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(JSON.parse(fetched.stdout)).toEqual([{ command: "echo alpha" }, { command: "echo beta" }]);

    const run = await cli(["commands", "run", "--service", "monitor"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("✓ echo alpha\n✓ echo beta\nsuccess: report stored at status/ROBOT-A/monitor/last_monitoring_status.json");
    await expect
      .poll(() => h.prisma.auditLog.findFirst({ where: { action: "device.status_report", targetId: "ROBOT-A/monitor" } }))
      .toMatchObject({
        details: expect.objectContaining({
          report: {
            general_status: "success",
            general_error: null,
            commands: [
              { command: "echo alpha", result: "alpha", status: "success" },
              { command: "echo beta", result: "beta", status: "success" },
            ],
          },
        }),
      });
  });

  it("uploads a hand-written report, and refuses one that is not a report", async () => {
    const good = path.join(tmp, "report.json");
    await writeFile(
      good,
      JSON.stringify({
        general_status: "error",
        general_error: "disk full",
        commands: [{ command: "df", result: "100%", status: "error" }],
      }),
    );
    const sent = await cli(["commands", "report", "--service", "camera", "report.json"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("report stored at status/ROBOT-A/camera/last_monitoring_status.json");

    await writeFile(path.join(tmp, "bad.json"), JSON.stringify({ status: "ok" }));
    const bad = await cli(["commands", "report", "--service", "camera", "bad.json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not a status report");
  });
});
