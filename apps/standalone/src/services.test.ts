import { afterEach, describe, expect, it } from "vitest";
import { startService, stopRestarting, type TService } from "./services";

const started: TService[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

function service(script: string, lines: string[]) {
  const svc = startService({
    name: "child",
    command: process.execPath,
    args: ["-e", script],
    cwd: process.cwd(),
    env: {},
    print: (line) => lines.push(line),
  });
  started.push(svc);
  return svc;
}

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("platform services", () => {
  it("restarts a service that crashes", async () => {
    const lines: string[] = [];
    service("console.log('up'); process.exit(3)", lines);
    await until(() => lines.filter((line) => line === "[child] up").length >= 2);
    expect(lines).toContain("[child] exited (code 3); restarting in 1 s");
  });

  it("does not restart a service that exits with 0, as it does on the Ctrl-C it also receives", async () => {
    const lines: string[] = [];
    const svc = service("console.log('up'); setTimeout(() => process.exit(0), 50)", lines);
    await until(() => lines.includes("[child] exited"));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lines.filter((line) => line === "[child] up")).toHaveLength(1);
    expect(svc.running).toBe(false);
  });

  // Last: stopRestarting is for the whole process.
  it("restarts nothing once the platform is stopping, even a service that crashes", async () => {
    const lines: string[] = [];
    stopRestarting();
    service("console.log('up'); process.exit(3)", lines);
    await until(() => lines.includes("[child] up"));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lines.filter((line) => line === "[child] up")).toHaveLength(1);
    expect(lines.some((line) => line.includes("restarting"))).toBe(false);
  });
});
