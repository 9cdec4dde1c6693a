import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

const MIB = 1024 * 1024;

/**
 * Writes `sizeMiB` MiB of incompressible bytes to `file`, one MiB at a time; returns their digest
 * (hex) with `algorithm`: sha256 as a request names it, md5 as the fs store's single-part ETag.
 */
export async function generateFile(file: string, sizeMiB: number, algorithm: "sha256" | "md5" = "sha256"): Promise<string> {
  const block = randomBytes(MIB);
  const hash = createHash(algorithm);
  async function* blocks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < sizeMiB; i++) {
      block.writeUInt32LE(i, 0); // every MiB differs
      hash.update(block);
      yield Buffer.from(block);
    }
  }
  await pipeline(Readable.from(blocks()), createWriteStream(file));
  return hash.digest("hex");
}
