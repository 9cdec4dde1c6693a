/**
 * Assembles a file_transfer from its staged segments into the session's storage, streaming:
 * PostgreSQL sends the segments in offset order over a binary COPY, the bytes of [0, size) are
 * hashed (SHA-256) on their way to `store.put`, and a wrong checksum fails the stream before
 * its end, so the store discards what it received: nothing is stored. Memory is a few stream
 * buffers, whatever the file size.
 *
 * The ranges check and the COPY run in one REPEATABLE READ snapshot, so what was found complete
 * is exactly what is read.
 */
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { runTyped, typedSql } from "@fleetdrop/db/kysely";
import type { Pool } from "@fleetdrop/db/pool";
import { missingRanges, type TByteRange } from "@fleetdrop/shared/protocol/transfer";
import { CannotAdoptFileError, type Store } from "@fleetdrop/storage/store";
import { to as copyTo } from "pg-copy-streams";
import { withTransaction } from "../db/transaction";
import { CopyBinaryReader } from "./copy-binary";
import { canAdopt, storedResult, type TStored } from "./eager-assembly";
import type { FileStaging } from "./file-staging";
import { heldRanges } from "./transfers-db";

const STREAM_BUFFER = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type TAssembleInput = {
  pool: Pool;
  store: Store;
  transferId: string;
  size: number;
  objectKey: string;
  contentType: string;
  /** SHA-256 (lower-case hex) the file must have, when the device gave one. */
  expectedSha256: string | null;
  /** Where segments recorded without bytes are (TRANSFER_STAGING_DIR). */
  staging?: FileStaging | null;
};

export type TAssembleResult =
  | TStored
  | { outcome: "incomplete"; received: TByteRange[]; missing: TByteRange[] }
  | { outcome: "beyond_size"; received: TByteRange[] }
  | { outcome: "checksum_mismatch"; sha256: string };

export async function assembleTransfer(input: TAssembleInput): Promise<TAssembleResult> {
  if (!UUID.test(input.transferId)) throw new Error(`not a transfer id: ${input.transferId}`);
  return withTransaction(
    input.pool,
    async (client, tx) => {
      // A large file takes longer than the pool's statement timeout to read.
      await client.query("SET LOCAL statement_timeout = 0");
      const received = await heldRanges(client, input.transferId);
      const missing = missingRanges(received, input.size);
      if (missing.length > 0) return { outcome: "incomplete", received, missing };
      if ((received.at(-1)?.[1] ?? 0) > input.size) return { outcome: "beyond_size", received };

      // Segments staged in files hold no bytes in `data` (see segments-fs.ts).
      const where = await runTyped(
        client,
        typedSql
          .selectFrom("transfer_segments")
          .select((eb) => [
            eb.fn
              .countAll<string>()
              .filterWhere(eb.fn("octet_length", [eb.ref("data")]), "<", eb.ref("length"))
              .as("in_files"),
            eb.fn.countAll<string>().as("total"),
          ])
          .where("transfer_id", "=", input.transferId),
      );
      const inFiles = Number(where.rows[0]?.in_files ?? 0);
      if (inFiles > 0) {
        if (inFiles !== Number(where.rows[0]?.total))
          throw new Error(
            "the transfer's segments are staged partly in files and partly in PostgreSQL " +
              "(TRANSFER_STAGING_DIR changed during it); abort it and send again",
          );
        if (!input.staging)
          throw new Error("the transfer's segments are staged in files, but TRANSFER_STAGING_DIR is not set on this worker");
        return await storeFromFile(input, input.staging);
      }

      const hash = createHash("sha256");
      let position = 0; // next byte of the file to emit
      let rowOffset = 0; // file offset of the next byte of the current row
      let mismatch: string | null = null;
      let reader: CopyBinaryReader;
      const body = new Transform({
        readableHighWaterMark: STREAM_BUFFER,
        writableHighWaterMark: STREAM_BUFFER,
        transform(chunk: Buffer, _encoding, callback) {
          try {
            reader.push(chunk);
            callback();
          } catch (error) {
            callback(error as Error);
          }
        },
        flush(callback) {
          if (!reader.finished || position !== input.size) {
            callback(new Error(`assembled ${position} of ${input.size} bytes`));
            return;
          }
          const digest = hash.digest("hex");
          if (input.expectedSha256 !== null && digest !== input.expectedSha256) {
            mismatch = digest;
            callback(new Error(`SHA-256 ${digest} does not match ${input.expectedSha256}`));
            return;
          }
          sha256 = digest;
          callback();
        },
      });
      let sha256 = "";
      reader = new CopyBinaryReader({
        row(offset) {
          if (offset > position) throw new Error(`gap before offset ${offset} (assembled up to ${position})`);
          rowOffset = offset;
        },
        data(bytes) {
          const start = rowOffset;
          const end = rowOffset + bytes.length;
          rowOffset = end;
          // Only the part that extends the file: overlaps were sent before, bytes past the size are not the file's.
          const from = Math.max(start, position);
          const to = Math.min(end, input.size);
          if (to <= from) return;
          const slice = bytes.subarray(from - start, to - start);
          hash.update(slice);
          position = to;
          body.push(slice);
        },
      });

      const copy = client.query(
        copyTo(
          `COPY (SELECT "offset", data FROM transfer_segments WHERE transfer_id = '${input.transferId}' ` +
            `ORDER BY "offset", length DESC) TO STDOUT (FORMAT binary)`,
          { highWaterMark: STREAM_BUFFER },
        ),
      );
      copy.on("error", (error) => body.destroy(error));
      copy.pipe(body);
      let stored;
      try {
        stored = await input.store.put(input.objectKey, body, { contentType: input.contentType });
      } catch (error) {
        // A COPY stopped half way leaves the connection unusable: it is closed, not rolled back.
        if (!copy.readableEnded) tx.discard();
        copy.unpipe(body);
        copy.destroy();
        if (mismatch !== null) return { outcome: "checksum_mismatch", sha256: mismatch };
        throw error;
      }
      return storedResult(sha256, stored);
    },
    { begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" },
  );
}

/**
 * Assembly of a file-staged transfer. With the fs store the staging file itself becomes the
 * object: it is read once for its SHA-256 (checked, and the object's ETag) and renamed into place.
 * Otherwise — or when it cannot be adopted (another filesystem) — [0, size) is streamed into the
 * store, hashed on the way.
 */
async function storeFromFile(input: TAssembleInput, staging: FileStaging): Promise<TAssembleResult> {
  if (canAdopt(input.store) && input.size > 0) {
    const { sha256, read } = await hashStagedFile(staging, input.transferId, input.size);
    if (read !== input.size) throw new Error(`read ${read} of ${input.size} staged bytes`);
    if (input.expectedSha256 !== null && sha256 !== input.expectedSha256) return { outcome: "checksum_mismatch", sha256 };
    try {
      // No write of this worker may land in the file once it is the object.
      await staging.idle(input.transferId);
      const stored = await input.store.adopt(input.objectKey, await staging.pathForAdoption(input.transferId), {
        size: input.size,
        sha256Hex: sha256,
        contentType: input.contentType,
      });
      return storedResult(sha256, stored);
    } catch (error) {
      if (!(error instanceof CannotAdoptFileError)) throw error;
      // A staging folder on another filesystem than the store's: copy, as for S3.
    }
  }
  return copyFromFile(input, staging);
}

async function hashStagedFile(staging: FileStaging, transferId: string, size: number): Promise<{ sha256: string; read: number }> {
  const sha256 = createHash("sha256");
  let read = 0;
  for await (const chunk of staging.read(transferId, size)) {
    sha256.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  return { sha256: sha256.digest("hex"), read };
}

/** Streams [0, size) of a staging file into the store, hashing on the way. */
async function copyFromFile(input: TAssembleInput, staging: FileStaging): Promise<TAssembleResult> {
  const hash = createHash("sha256");
  let seen = 0;
  let mismatch: string | null = null;
  let sha256 = "";
  const verify = new Transform({
    readableHighWaterMark: STREAM_BUFFER,
    writableHighWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (seen !== input.size) return callback(new Error(`read ${seen} of ${input.size} staged bytes`));
      const digest = hash.digest("hex");
      if (input.expectedSha256 !== null && digest !== input.expectedSha256) {
        mismatch = digest;
        return callback(new Error(`SHA-256 ${digest} does not match ${input.expectedSha256}`));
      }
      sha256 = digest;
      callback();
    },
  });
  const source = input.size === 0 ? null : staging.read(input.transferId, input.size);
  if (source) {
    source.on("error", (error) => verify.destroy(error));
    source.pipe(verify);
  } else verify.end();
  try {
    const stored = await input.store.put(input.objectKey, verify, { contentType: input.contentType });
    return storedResult(sha256, stored);
  } catch (error) {
    source?.destroy();
    if (mismatch !== null) return { outcome: "checksum_mismatch", sha256: mismatch };
    throw error;
  }
}
