/**
 * @20minutes/s3rver (an S3 emulator that checks SigV4 on ordinary requests and stores any
 * POST) for tests, in a child process, with the client middleware it needs.
 *
 * Found on Node 20 (its engines field asks for >= 24): it runs, but ListObjectsV2 paging needs
 * the DES cipher, hence the separate process with --openssl-legacy-provider; and its query
 * signature check encodes `'` differently from SigV4, so it refuses URLs with a download name
 * (filename*=UTF-8''...): those are checked against the SDK in presigned-url.test.ts.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

import type { S3Client } from "@aws-sdk/client-s3";

/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export type TRunningS3rver = { endpoint: string; port: number; stop: () => Promise<void> };

const RUNNER = fileURLToPath(new URL("./s3rver-process.cjs", import.meta.url));

export async function startS3rver(directory: string, buckets: string[]): Promise<TRunningS3rver> {
  const child = fork(RUNNER, [directory, buckets.join(",")], {
    execArgv: ["--openssl-legacy-provider"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`s3rver exited with code ${code} before it listened`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send("stop");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * s3rver signs bucket-level requests over `/bucket` while the SDK sends (and signs) `/bucket/`:
 * strip that trailing slash before signing so that s3rver's SigV4 check passes.
 */
export function stripBucketTrailingSlash(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { path?: unknown };
      if (typeof request.path === "string" && /^\/[^/]+\/$/.test(request.path)) request.path = request.path.slice(0, -1);
      return next(args);
    },
    { step: "build", name: "fleetdropStripBucketTrailingSlash" },
  );
}
