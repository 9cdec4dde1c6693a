/**
 * Every place Fleetdrop reaches into mqtt.js beyond its documented API. Each function names the
 * upstream behaviour it relies on; mqtt-internals.integration.test.ts checks each of them against
 * a real broker, so upgrading mqtt.js (pinned exactly in the pnpm catalog) fails that test
 * rather than the worker, the device SDK or the benchmarks.
 *
 * What this relies on, as of mqtt.js 5.16:
 * - `MqttClient#stream` is the connection's `net.Socket` (`tls.TLSSocket` for mqtts://) once
 *   `connect` has been emitted, and a new one after each reconnect.
 * - Every packet the client sends goes through `MqttClient#_sendPacket(packet, cb, ...)`,
 *   including the PUBACK it sends when `handleMessage`'s callback runs; mqtt.js reads the next
 *   packet once `cb` has been called.
 * - `MqttClient#disconnecting` is true from `end()` until the `close` that `end()` causes has
 *   been emitted, and false when the connection drops on its own.
 */
import { Socket } from "node:net";
import type { MqttClient } from "mqtt";

/** The socket of the client's current connection, if it is a TCP (or TLS) socket. */
function socketOf(client: MqttClient): Socket | undefined {
  const stream: unknown = client.stream;
  return stream instanceof Socket ? stream : undefined;
}

/**
 * Turns Nagle's algorithm off on the client's current connection, so that a small packet goes
 * out at once instead of waiting for the previous one's ACK (40-80 ms of delayed ACKs per
 * request/response round trip). Call it on every `connect`: each connection has its own socket.
 * Returns false if the connection is not a TCP socket (e.g. WebSocket), where there is nothing to do.
 */
export function disableNagle(client: MqttClient): boolean {
  const socket = socketOf(client);
  socket?.setNoDelay(true);
  return socket !== undefined;
}

/**
 * Holds the client's writes in its socket until the returned function is called, which sends
 * them in one `writev`. Returns null when there is no open TCP socket to cork (then writes go
 * out as usual).
 */
export function corkConnection(client: MqttClient): (() => void) | null {
  const socket = socketOf(client);
  if (!socket || socket.destroyed) return null;
  socket.cork();
  return () => socket.uncork();
}

/** Cuts the client's connection without a DISCONNECT, as a crash or a network failure would (for tests). */
export function dropConnection(client: MqttClient): void {
  client.stream.destroy();
}

/** Whether the client is closing its connection because `end()` was called (not because it dropped). */
export function isEnding(client: MqttClient): boolean {
  return client.disconnecting;
}

/** A packet mqtt.js is about to send, as far as an interceptor needs to know it. */
export type TOutgoingPacket = { readonly cmd: string; readonly messageId?: number };

/**
 * Decides, for each packet the client is about to send, whether to hold it back: return
 * undefined to send it now, or a function that receives `send`, which writes the packet when
 * called (e.g. once the work it acknowledges is done). A held packet counts as sent for mqtt.js:
 * its completion callback runs at once, so the client reads on.
 */
export type TPacketInterceptor = (packet: TOutgoingPacket) => ((send: () => void) => void) | undefined;

type TSendPacket = (this: MqttClient, packet: TOutgoingPacket, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

/** Puts `intercept` in front of every packet the client sends (one interceptor per client). */
export function interceptOutgoingPackets(client: MqttClient, intercept: TPacketInterceptor): void {
  const internal = client as unknown as { _sendPacket: TSendPacket };
  const originalSend = internal._sendPacket;
  if (typeof originalSend !== "function") {
    throw new Error("mqtt.js internals changed: MqttClient#_sendPacket is missing (check the pinned mqtt version)");
  }
  internal._sendPacket = function interceptedSend(this: MqttClient, packet, cb, ...rest) {
    const hold = intercept(packet);
    if (!hold) return originalSend.call(this, packet, cb, ...rest);
    cb?.();
    hold(() => originalSend.call(client, packet, undefined, ...rest));
  };
}
