/**
 * A streaming reader of PostgreSQL's binary COPY format for rows of (int8, bytea), as produced
 * by `COPY (SELECT "offset", data …) TO STDOUT (FORMAT binary)`. Bytea values are handed on in
 * the slices they arrive in, never gathered whole, so memory stays at the size of the stream's
 * buffers whatever the segment size.
 *
 * Format: an 11-byte signature, int32 flags, int32 header-extension length (+ extension); then
 * per row int16 field count (-1 ends the data) and per field int32 length (-1 = NULL) + bytes.
 */
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

export type TCopyRowSink = {
  /** A row starts: `offset` is the int8 column, `length` the bytea's byte count. */
  row(offset: number, length: number): void;
  /** The next bytes of the current row's bytea. */
  data(bytes: Buffer): void;
};

type TState =
  | { at: "header" }
  | { at: "extension"; remaining: number }
  | { at: "tuple" }
  | { at: "offset" }
  | { at: "length"; offset: number }
  | { at: "bytes"; remaining: number }
  | { at: "end" };

export class CopyBinaryReader {
  private state: TState = { at: "header" };
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly sink: TCopyRowSink) {}

  get finished(): boolean {
    return this.state.at === "end";
  }

  /** Feeds the next chunk of COPY data. */
  push(chunk: Buffer): void {
    const buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    const need = (bytes: number) => buffer.length - at >= bytes;
    for (;;) {
      const state = this.state;
      if (state.at === "bytes") {
        const take = Math.min(state.remaining, buffer.length - at);
        if (take > 0) {
          this.sink.data(buffer.subarray(at, at + take));
          at += take;
          state.remaining -= take;
        }
        if (state.remaining > 0) break;
        this.state = { at: "tuple" };
        continue;
      }
      if (state.at === "end") break;
      if (state.at === "header") {
        if (!need(19)) break;
        if (!buffer.subarray(at, at + 11).equals(SIGNATURE)) throw new Error("not a binary COPY stream");
        const extension = buffer.readUInt32BE(at + 15);
        at += 19;
        this.state = { at: "extension", remaining: extension };
        continue;
      }
      if (state.at === "extension") {
        const skip = Math.min(state.remaining, buffer.length - at);
        at += skip;
        state.remaining -= skip;
        if (state.remaining > 0) break;
        this.state = { at: "tuple" };
        continue;
      }
      if (state.at === "tuple") {
        if (!need(2)) break;
        const fields = buffer.readInt16BE(at);
        at += 2;
        if (fields === -1) {
          this.state = { at: "end" };
          continue;
        }
        if (fields !== 2) throw new Error(`expected rows of 2 fields, got ${fields}`);
        this.state = { at: "offset" };
        continue;
      }
      if (state.at === "offset") {
        if (!need(12)) break;
        if (buffer.readInt32BE(at) !== 8) throw new Error("expected an int8 offset");
        const offset = Number(buffer.readBigInt64BE(at + 4));
        at += 12;
        this.state = { at: "length", offset };
        continue;
      }
      if (state.at === "length") {
        if (!need(4)) break;
        const length = buffer.readInt32BE(at);
        at += 4;
        if (length < 0) throw new Error("unexpected NULL segment data");
        this.sink.row(state.offset, length);
        this.state = { at: "bytes", remaining: length };
        continue;
      }
    }
    // Keep only an incomplete header/length; data bytes were handed on.
    this.pending = at < buffer.length ? Buffer.from(buffer.subarray(at)) : Buffer.alloc(0);
  }
}
