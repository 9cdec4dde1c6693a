/**
 * Tables keyed by MQTT packet identifier (1–65535) for the worker's per-message bookkeeping: the
 * QoS 1 publishes awaiting their PUBACK (mqtt.js's outgoing store) and the PUBACKs held back until
 * a request is handled (deferred-ack.ts).
 *
 * Why not a Map: both tables see a set and a delete for every message, thousands a second. V8's
 * Map then rebuilds its hash table every few hundred operations, and each table it replaces keeps
 * a link to its successor (for iterators) and the entries it held. Once one replaced table has
 * been promoted to the old generation, it keeps all later ones, and the packets they held, alive
 * through every young-generation GC until the next full one. Under the core flow's benchmark load
 * (200 devices) the worker promoted 3.2-3.8 MB per scavenge that way; with these tables 0.5-0.6 MB,
 * and its scavenges took 3.6-4.2 ms instead of 5.4-6.6 (`BENCH_WORKER_FLAGS=--trace-gc npm run bench --
 * upload-requests`). One slot per
 * identifier allocates nothing per entry and never rebuilds.
 */
import { Readable } from "node:stream";
import type { IStore, Packet } from "mqtt";

const SLOTS = 65536;

export class MessageIdSlots<V> {
  private readonly slots: (V | undefined)[] = Array.from<V | undefined>({ length: SLOTS });
  /** When each occupied slot was first set, for {@link inOrder}. */
  private readonly setAt = new Float64Array(SLOTS);
  private sequence = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    return this.slots[checked(id)];
  }

  /** Replacing an entry keeps its place in {@link inOrder}, as a Map does. */
  set(id: number, value: V): this {
    if (value === undefined) throw new TypeError("MessageIdSlots cannot hold undefined");
    if (this.slots[checked(id)] === undefined) {
      this.count++;
      this.setAt[id] = ++this.sequence;
    }
    this.slots[id] = value;
    return this;
  }

  delete(id: number): boolean {
    if (this.slots[checked(id)] === undefined) return false;
    this.slots[id] = undefined;
    this.count--;
    return true;
  }

  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(undefined);
    this.count = 0;
  }

  /** The entries in the order they were first set (identifiers wrap around, so not by id). */
  inOrder(): V[] {
    const ids: number[] = [];
    for (let id = 0; id < SLOTS && ids.length < this.count; id++) if (this.slots[id] !== undefined) ids.push(id);
    ids.sort((a, b) => this.setAt[a]! - this.setAt[b]!);
    return ids.map((id) => this.slots[id]!);
  }
}

function checked(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= SLOTS) throw new RangeError(`not an MQTT packet identifier: ${id}`);
  return id;
}

/**
 * mqtt.js's outgoing store (publishes awaiting their acknowledgement) on {@link MessageIdSlots}.
 * It behaves as mqtt.js's own in-memory store: after a reconnect mqtt.js resends what it holds, in
 * the order it was first sent.
 */
export class MessageIdStore implements IStore {
  private readonly packets = new MessageIdSlots<Packet>();

  /** Packets held (awaiting acknowledgement). */
  get size(): number {
    return this.packets.size;
  }

  put(packet: Packet, cb: (error?: Error) => void): this {
    this.packets.set(idOf(packet), packet);
    cb();
    return this;
  }

  get(packet: Pick<Packet, "messageId">, cb: TPacketCallback): this {
    answer(this.packets.get(idOf(packet)), cb);
    return this;
  }

  del(packet: Pick<Packet, "messageId">, cb: TPacketCallback): this {
    const id = idOf(packet);
    const stored = this.packets.get(id);
    if (stored) this.packets.delete(id);
    answer(stored, cb);
    return this;
  }

  /** mqtt.js types this as readable-stream's Readable; it uses only what node's has too. */
  createStream(): ReturnType<IStore["createStream"]> {
    const pending = this.packets.inOrder();
    let next = 0;
    const stream = new Readable({
      objectMode: true,
      read() {
        this.push(next < pending.length ? pending[next++] : null);
      },
    });
    return stream as unknown as ReturnType<IStore["createStream"]>;
  }

  close(cb: (error?: Error) => void): void {
    this.packets.clear();
    cb();
  }
}

type TPacketCallback = (error?: Error, packet?: Packet) => void;

/** As mqtt.js's own store answers: the packet, or "missing packet". */
function answer(stored: Packet | undefined, cb: TPacketCallback): void {
  if (stored) cb(undefined, stored);
  else cb(new Error("missing packet"));
}

function idOf(packet: Pick<Packet, "messageId">): number {
  if (packet.messageId === undefined) throw new TypeError("packet has no messageId");
  return packet.messageId;
}
