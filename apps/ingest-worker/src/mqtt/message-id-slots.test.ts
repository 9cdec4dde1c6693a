import type { Packet } from "mqtt";
import { describe, expect, it } from "vitest";
import { MessageIdSlots, MessageIdStore } from "./message-id-slots";

const publish = (messageId: number, payload = `p${messageId}`): Packet => ({
  cmd: "publish",
  messageId,
  qos: 1,
  dup: false,
  retain: false,
  topic: "t",
  payload,
});

function call<T>(run: (cb: (error?: Error, value?: T) => void) => void): { error?: Error; value?: T } {
  let result: { error?: Error; value?: T } | undefined;
  run((error, value) => (result = { error, value }));
  if (!result) throw new Error("callback not called synchronously");
  return result;
}

describe("MessageIdSlots", () => {
  it("sets, gets, replaces and deletes by packet identifier, counting entries", () => {
    const slots = new MessageIdSlots<string>();
    expect(slots.get(7)).toBeUndefined();
    slots.set(7, "a").set(65535, "b").set(0, "c");
    expect([slots.get(7), slots.get(65535), slots.get(0), slots.size]).toEqual(["a", "b", "c", 3]);
    slots.set(7, "a2");
    expect([slots.get(7), slots.size]).toEqual(["a2", 3]);
    expect(slots.delete(7)).toBe(true);
    expect(slots.delete(7)).toBe(false);
    expect([slots.get(7), slots.size]).toEqual([undefined, 2]);
    slots.clear();
    expect([slots.get(65535), slots.size]).toEqual([undefined, 0]);
  });

  it("refuses what is not a packet identifier, and undefined values", () => {
    const slots = new MessageIdSlots<string>();
    for (const id of [-1, 65536, 1.5, Number.NaN]) expect(() => slots.set(id, "x")).toThrow(RangeError);
    expect(() => slots.get(70000)).toThrow(RangeError);
    expect(() => slots.set(1, undefined as unknown as string)).toThrow(TypeError);
  });

  it("lists entries in the order they were first set, across the identifiers' wrap-around", () => {
    const slots = new MessageIdSlots<string>();
    slots.set(65534, "first").set(65535, "second").set(1, "third").set(2, "fourth");
    slots.delete(65535);
    slots.set(65534, "first, replaced");
    slots.set(65535, "fifth");
    expect(slots.inOrder()).toEqual(["first, replaced", "third", "fourth", "fifth"]);
  });
});

describe("MessageIdStore (mqtt.js outgoing store)", () => {
  it("holds a packet until it is deleted, and reports a missing one", () => {
    const store = new MessageIdStore();
    const packet = publish(42);
    expect(call((cb) => store.put(packet, cb)).error).toBeUndefined();
    expect(call<Packet>((cb) => store.get({ messageId: 42 }, cb)).value).toBe(packet);
    expect(call<Packet>((cb) => store.del({ messageId: 42 }, cb)).value).toBe(packet);
    expect(store.size).toBe(0);
    expect(call((cb) => store.get({ messageId: 42 }, cb)).error?.message).toBe("missing packet");
    expect(call((cb) => store.del({ messageId: 42 }, cb)).error?.message).toBe("missing packet");
  });

  it("streams what it holds in sending order for mqtt.js to resend after a reconnect", async () => {
    const store = new MessageIdStore();
    for (const id of [65535, 1, 2, 3]) store.put(publish(id), () => {});
    store.del({ messageId: 2 }, () => {});
    const resent: number[] = [];
    for await (const packet of store.createStream() as unknown as AsyncIterable<Packet>) resent.push(packet.messageId!);
    expect(resent).toEqual([65535, 1, 3]);
  });

  it("is empty after close", () => {
    const store = new MessageIdStore();
    store.put(publish(5), () => {});
    let closed = false;
    store.close(() => (closed = true));
    expect([closed, store.size]).toEqual([true, 0]);
  });
});
