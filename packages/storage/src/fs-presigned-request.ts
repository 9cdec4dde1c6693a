/**
 * A request through a URL an fs store presigned: a download (GET/HEAD) or one part of a
 * multipart upload (PUT). Both are checked the same way before the endpoint touches a file.
 */
import type { IncomingMessage } from "node:http";

import type { FsEndpointStores } from "./fs-endpoint-stores";
import type { FsStore } from "./fs-store";
import { objectKeyProblem } from "./object-key";
import { verifyPresignedUrl, type TVerifiedUrl } from "./presigned-url";
import { accessDenied, invalidArgument } from "./s3-protocol-error";

export type TPresignedRequest = {
  req: IncomingMessage;
  bucket: string;
  /** The decoded key (full key inside the bucket). */
  key: string;
  /** The decoded path that was signed, e.g. `/fs/bucket/a b.txt`. */
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  stores: FsEndpointStores;
};

/**
 * The store a presigned request is for, once the URL carries a valid, unexpired signature for one
 * of `methods`, its key is valid, and the signing access key's store holds the key; otherwise
 * throws the S3 error to answer (`denied`: the AccessDenied message).
 */
export function presignedRequestStore(
  request: TPresignedRequest,
  methods: readonly string[],
  denied?: string,
): { store: FsStore; verified: TVerifiedUrl } {
  const verified = verifyPresignedUrl({
    methods,
    path: request.path,
    query: request.query,
    headers: request.req.headers,
    lookupCredentials: request.stores.lookup(request.bucket),
  });
  const problem = objectKeyProblem(request.key);
  if (problem) throw invalidArgument(`Invalid key: ${problem}`, "key", request.key);
  const store = request.stores.storeFor(request.bucket, verified.accessKeyId, request.key);
  if (!store) throw accessDenied(denied);
  return { store, verified };
}
