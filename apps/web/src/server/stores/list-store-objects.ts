import "server-only";
import type { TProjectContext } from "@/server/auth/project-context";
import { UserInputError } from "@/server/errors";
import { resolveStoreTarget } from "./store-target";

export type TStoreListing = {
  store: string;
  device: string | null;
  folder: string;
  canWrite: boolean;
  folders: string[];
  objects: { path: string; name: string; size: number; etag: string; contentType: string | null; lastModified: string }[];
  truncated: boolean;
};

/** What a folder of a store holds: sub-folders and objects (at most `limit` objects read). */
export async function listStoreObjects(options: {
  ctx: TProjectContext;
  store: string;
  device?: string | null;
  folder?: string;
  limit?: number;
}): Promise<TStoreListing> {
  const target = await resolveStoreTarget(options);
  const folder = (options.folder ?? "").replace(/^\/+|\/+$/g, "");
  if (folder.split("/").some((part) => part === "." || part === "..")) throw new UserInputError("Not a folder of this store");
  const prefix = target.base + (folder ? `${folder}/` : "");
  const folders = new Set<string>();
  const objects: TStoreListing["objects"] = [];
  let token: string | undefined;
  let read = 0;
  const limit = options.limit ?? 5000;
  do {
    const page = await target.entry.store.list(prefix, { limit: 1000, ...(token ? { continuationToken: token } : {}) });
    for (const object of page.objects) {
      read++;
      const rest = object.key.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash >= 0) folders.add(rest.slice(0, slash));
      else
        objects.push({
          path: object.key.slice(target.base.length),
          name: rest,
          size: object.size,
          etag: object.etag,
          contentType: object.contentType ?? null,
          lastModified: object.lastModified.toISOString(),
        });
    }
    token = page.nextToken;
  } while (token && read < limit);
  return {
    store: target.entry.name,
    device: target.device,
    folder,
    canWrite: target.canWrite,
    folders: [...folders].sort(),
    objects,
    truncated: Boolean(token),
  };
}
