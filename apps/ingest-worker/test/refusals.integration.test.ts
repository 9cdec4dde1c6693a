import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, type THarness } from "./harness";

let h: THarness;

beforeAll(async () => {
  h = await createHarness("refusals");
});

afterAll(async () => {
  await h?.close();
});

describe("refused requests counted for the overview", () => {
  it("counts each refusal under its device, hour and code, and adds to the count on later flushes", async () => {
    const worker = await h.startWorker();
    const a = await rawDevice(h.broker, "ROBOT-A");
    expect(await a.ask("session/close", { session_id: h.seed.openB })).toMatchObject({ code: "session_not_owned" });
    expect(await a.ask("session/close", { session_id: h.seed.openB })).toMatchObject({ code: "session_not_owned" });
    expect(await a.ask("file_upload/request", { session_id: h.seed.closedA, filename: "x.bin" })).toMatchObject({
      code: "session_closed",
    });
    expect(await a.ask("session/close", { session_id: h.seed.openA })).toMatchObject({ success: true });
    // Stopping flushes what is counted.
    await worker.stop();
    h.workers.splice(h.workers.indexOf(worker), 1);
    const rows = await h.prisma.requestRefusal.findMany({ orderBy: { code: "asc" } });
    const hour = new Date();
    hour.setUTCMinutes(0, 0, 0);
    expect(rows.map((row) => [row.code, row.count, row.projectId])).toEqual([
      ["session_closed", 1, h.seed.projectId],
      ["session_not_owned", 2, h.seed.projectId],
    ]);
    expect(Math.abs(rows[0]!.hour.getTime() - hour.getTime())).toBeLessThan(3600_000 + 1);

    const again = await h.startWorker();
    expect(await a.ask("session/close", { session_id: h.seed.openB })).toMatchObject({ code: "session_not_owned" });
    await again.stop();
    h.workers.splice(h.workers.indexOf(again), 1);
    const total = await h.prisma.requestRefusal.aggregate({ where: { code: "session_not_owned" }, _sum: { count: true } });
    expect(total._sum.count).toBe(3);
    await a.close();
  });
});
