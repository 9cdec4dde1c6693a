import { describe, expect, it } from "vitest";
import { TransferOrdering } from "./ordering";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TransferOrdering", () => {
  it("runs a command after the segments received before it, and segments concurrently", async () => {
    const ordering = new TransferOrdering();
    const log: string[] = [];
    const seg = (name: string, ms: number) => ordering.segment("t", async () => (await tick(ms), log.push(name)));
    const a = seg("s1", 30);
    const b = seg("s2", 5);
    const fin = ordering.command("t", async () => log.push("fin"));
    await Promise.all([a, b, fin]);
    expect(log).toEqual(["s2", "s1", "fin"]);
    expect(ordering.size).toBe(0);
  });

  it("runs a segment after the command received before it, even when that command fails", async () => {
    const ordering = new TransferOrdering();
    const log: string[] = [];
    const init = ordering.command("t", async () => {
      await tick(20);
      log.push("init");
      throw new Error("refused");
    });
    const seg = ordering.segment("t", async () => log.push("s1"));
    await expect(init).rejects.toThrow("refused");
    await seg;
    expect(log).toEqual(["init", "s1"]);
  });

  it("keeps transfers independent", async () => {
    const ordering = new TransferOrdering();
    const log: string[] = [];
    const slow = ordering.segment("a", async () => (await tick(30), log.push("a")));
    const other = ordering.command("b", async () => log.push("b"));
    await Promise.all([slow, other]);
    expect(log).toEqual(["b", "a"]);
  });
});
