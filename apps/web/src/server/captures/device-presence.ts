import "server-only";
import { ZPresenceSchema } from "@fleetdrop/shared/protocol/commands";
import { createTopics } from "@fleetdrop/shared/topics";
import { env } from "@/env";
import { readRetained } from "@/server/mqtt/command-publisher";
import { db } from "@/server/db";

/** How recent "last seen" must be to count a device without a presence signal as online. */
const RECENTLY_SEEN_MS = 10 * 60_000;

export type TPresence = { state: "online" | "offline"; source: "presence" | "last_seen" };

/**
 * Whether a device is connected, for capture requests: what the worker recorded
 * (devices.presence_online, from the broker's connect/disconnect or the device's birth and Last
 * Will) when there is any. Otherwise, for a presence the worker has not recorded yet: the device SDK keeps a retained
 * `{online}` on `P/fleet/D/presence` with a Last Will saying `online: false`, so the broker
 * itself tells us when it drops. Devices that do not publish presence (written against the
 * bare protocol) are judged by "last seen": a request within RECENTLY_SEEN_MS counts as online.
 */
export async function devicePresence(
  serial: string,
  lastSeenAt: Date | null,
  read: typeof readRetained = readRetained,
): Promise<TPresence> {
  const recorded = await db()
    .device.findUnique({ where: { serial }, select: { presenceOnline: true } })
    .catch(() => null);
  if (recorded?.presenceOnline !== null && recorded?.presenceOnline !== undefined)
    return { state: recorded.presenceOnline ? "online" : "offline", source: "presence" };
  const payload = await read(createTopics(env.TOPIC_PREFIX).device(serial).presence).catch(() => null);
  if (payload) {
    try {
      const parsed = ZPresenceSchema.safeParse(JSON.parse(payload.toString("utf8")));
      if (parsed.success) return { state: parsed.data.online ? "online" : "offline", source: "presence" };
    } catch {
      // not JSON: fall through to last seen
    }
  }
  const recent = lastSeenAt !== null && Date.now() - lastSeenAt.getTime() < RECENTLY_SEEN_MS;
  return { state: recent ? "online" : "offline", source: "last_seen" };
}
