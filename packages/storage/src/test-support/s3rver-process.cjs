// Runs @20minutes/s3rver in its own process (started by s3rver.ts with
// --openssl-legacy-provider: s3rver mints ListObjectsV2 continuation tokens with DES, which
// Node 20's OpenSSL 3 only offers through the legacy provider).
// argv: <directory> <bucket,bucket> ; reports {port} over IPC, stops on "stop".
"use strict";
const S3rver = require("@20minutes/s3rver");

const [directory, buckets] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.split(",").map((name) => ({ name })),
});

server.run().then(
  (address) => process.send({ port: address.port }),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
process.on("message", (message) => {
  if (message === "stop") server.close().finally(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
