/**
 * The Store contract (test-support/store-contract.ts) against both backends: the fs store
 * behind its upload/download endpoint, and the s3 store against s3rver.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

import { createStore } from "./config";
import { createFsEndpoint } from "./fs-upload-endpoint";
import type { FsStore } from "./fs-store";
import type { S3Store } from "./s3-store";
import { S3RVER_CREDENTIALS, startS3rver, stripBucketTrailingSlash } from "./test-support/s3rver";
import { describeStoreContract } from "./test-support/store-contract";
import { makeTempDir } from "./test-support/temp-dir";

describeStoreContract({
  name: "fs (files behind the /fs endpoint)",
  // The fs endpoint checks every form against its signed policy.
  enforcesPostPolicy: true,
  listsInUtf8ByteOrder: true,
  fullMultipart: true,
  verifiesChecksums: true,
  async start() {
    const credentials = { accessKeyId: "FLEETDROPTESTKEY", secretAccessKey: "fleetdrop-test-secret-0123456789", region: "us-east-1" };
    const temp = await makeTempDir("contract-fs");
    const stores = new Map<string, FsStore>();
    let handle: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
    const server = http.createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const make = (prefix: string): FsStore =>
      createStore({
        backend: "fs",
        bucket: "uploads",
        rootDir: temp.dir,
        publicUrl: origin,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        prefix,
      });
    const root = make("");
    handle = createFsEndpoint({ stores: [root], logger: { warn: () => {}, error: () => {} } }).handle;
    return {
      credentials,
      store(prefix) {
        const existing = stores.get(prefix) ?? make(prefix);
        stores.set(prefix, existing);
        return existing;
      },
      async stop() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await temp.remove();
      },
    };
  },
});

describeStoreContract({
  name: "s3 (AWS SDK v3 against s3rver)",
  // s3rver stores any POST; the policy contents are checked against S3's rules instead.
  enforcesPostPolicy: false,
  // s3rver walks its folders depth first; S3 itself lists in UTF-8 byte order.
  listsInUtf8ByteOrder: false,
  // s3rver has no ListParts, AbortMultipartUpload or ListMultipartUploads.
  fullMultipart: false,
  // s3rver ignores the checksum fields; AWS S3 refuses other bytes with 400 BadDigest.
  verifiesChecksums: false,
  async start() {
    const bucket = "fleetdrop-test";
    const temp = await makeTempDir("contract-s3rver");
    const s3rver = await startS3rver(temp.dir, [bucket]);
    const stores: S3Store[] = [];
    return {
      credentials: { ...S3RVER_CREDENTIALS, region: "us-east-1" },
      store(prefix) {
        const store = createStore(
          { backend: "s3", bucket, region: "us-east-1", endpoint: s3rver.endpoint, forcePathStyle: true, ...S3RVER_CREDENTIALS, prefix },
          { s3: { configureClient: stripBucketTrailingSlash, timeouts: { connectionTimeoutMs: 1000, requestTimeoutMs: 3000 } } },
        );
        stores.push(store);
        return store;
      },
      async stop() {
        for (const store of stores) store.destroy();
        await s3rver.stop();
        await temp.remove();
      },
    };
  },
});
