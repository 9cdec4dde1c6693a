/**
 * What is left after a fault, read from storage and the database themselves (not from what the
 * worker reports): whether every file a device set out to upload is stored byte for byte, which
 * files the database still calls pending, and what storage holds that nothing accounts for.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { TUploadedFile } from "./devices";
import { FS_BUCKET, type TFaultEnvironment } from "./environment";

export type TAudit = {
  files: number;
  storedExact: number;
  bytes: number;
  bytesLost: number;
  pending: number;
  /** Objects in storage without an `uploaded` row. */
  orphanObjects: number;
  /** Upload temp files and §2 staging files left behind. */
  orphanTempFiles: number;
};

async function sha256Of(env: TFaultEnvironment, key: string): Promise<string | null> {
  const opened = await env.store.open(key);
  if (!opened) return null;
  const hash = createHash("sha256");
  for await (const chunk of opened.body) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every file below `dir` (none when it does not exist). */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

export async function pendingFiles(env: TFaultEnvironment): Promise<number> {
  const rows = await env.query<{ n: string }>("SELECT count(*) AS n FROM files WHERE state = 'pending'");
  return Number(rows[0]?.n ?? 0);
}

/** Upload temp files and transfer staging files still on disk. */
export async function tempFiles(env: TFaultEnvironment): Promise<number> {
  return (await filesBelow(path.join(env.storeDir, FS_BUCKET, "tmp"))).length + (await filesBelow(env.stagingDir)).length;
}

export async function audit(env: TFaultEnvironment, files: TUploadedFile[]): Promise<TAudit> {
  let storedExact = 0;
  let bytesLost = 0;
  for (const file of files) {
    if ((await sha256Of(env, file.objectKey)) === file.sha256) storedExact++;
    else bytesLost += file.size;
  }
  const uploaded = new Set(
    (await env.query<{ object_key: string }>("SELECT object_key FROM files WHERE state = 'uploaded'")).map((row) => row.object_key),
  );
  let orphanObjects = 0;
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await env.store.list("", { limit: 1000, ...(token ? { continuationToken: token } : {}) });
    for (const object of page.objects) if (!uploaded.has(object.key)) orphanObjects++;
    token = page.nextToken;
  }
  return {
    files: files.length,
    storedExact,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    bytesLost,
    pending: await pendingFiles(env),
    orphanObjects,
    orphanTempFiles: await tempFiles(env),
  };
}
