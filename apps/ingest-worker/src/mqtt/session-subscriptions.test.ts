import { describe, expect, it } from "vitest";
import { planSubscriptions, type TSubscriptionRecord } from "./session-subscriptions";

function memoryRecord(initial: string[] | null): TSubscriptionRecord & { value: string[] | null } {
  return {
    value: initial,
    async read() {
      return this.value;
    },
    async write(_clientId, filters) {
      this.value = [...new Set(filters)].sort();
    },
  };
}

describe("planSubscriptions", () => {
  it("unsubscribes what a resumed session holds and is no longer wanted, after widening the record to both", async () => {
    const record = memoryRecord(["$share/old/a", "$share/old/b"]);
    const plan = await planSubscriptions({ record, clientId: "w:1", sessionPresent: true, wanted: ["$share/new/a", "$share/new/b"] });
    expect(plan).toEqual({ action: "subscribe", stale: ["$share/old/a", "$share/old/b"] });
    // Until the SUBACK, the record covers what the session may hold either way.
    expect(record.value).toEqual(["$share/new/a", "$share/new/b", "$share/old/a", "$share/old/b"]);
  });

  it("unsubscribes nothing when the session is new or unchanged", async () => {
    expect(await planSubscriptions({ record: memoryRecord(["a"]), clientId: "w:1", sessionPresent: false, wanted: ["b"] })).toEqual({
      action: "subscribe",
      stale: [],
    });
    expect(await planSubscriptions({ record: memoryRecord(["a"]), clientId: "w:1", sessionPresent: true, wanted: ["a"] })).toEqual({
      action: "subscribe",
      stale: [],
    });
    expect(await planSubscriptions({ record: memoryRecord(null), clientId: "w:1", sessionPresent: false, wanted: ["a"] })).toEqual({
      action: "subscribe",
      stale: [],
    });
  });

  it("starts clean when a session is present but nothing is recorded of it", async () => {
    const record = memoryRecord(null);
    expect(await planSubscriptions({ record, clientId: "w:1", sessionPresent: true, wanted: ["a"] })).toEqual({ action: "clean-start" });
    expect(record.value).toBeNull();
  });
});
