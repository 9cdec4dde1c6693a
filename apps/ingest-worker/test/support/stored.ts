import type { Store } from "@fleetdrop/storage/store";

/** The bytes of the object stored at `key`, or null when there is none. */
export async function storedBytes(store: Store, key: string): Promise<Buffer | null> {
  const opened = await store.open(key);
  if (!opened) return null;
  const parts: Buffer[] = [];
  for await (const chunk of opened.body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
