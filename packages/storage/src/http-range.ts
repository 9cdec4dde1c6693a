/** HTTP `Range: bytes=...` for one range (RFC 9110 §14). Multiple ranges are served whole. */

export type TByteRange = { start: number; end: number };

/**
 * The inclusive range to serve from an object of `size` bytes: null to serve the whole object
 * (no header, a header this server ignores, or several ranges), "unsatisfiable" for 416.
 */
export function parseRangeHeader(header: string | undefined, size: number): TByteRange | null | "unsatisfiable" {
  if (header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === "" && last === "") return null;
  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return null; // invalid syntax: ignore the header
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}
