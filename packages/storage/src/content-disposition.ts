/**
 * `Content-Disposition` for a download name (RFC 6266): an ASCII `filename="..."` fallback for
 * old clients and the exact name as `filename*=UTF-8''<percent-encoded>` (RFC 8187).
 */

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
const NOT_ATTR_CHAR = /[^A-Za-z0-9!#$&+\-.^_`|~]/g;

function encodeExtValue(value: string): string {
  return Array.from(Buffer.from(value, "utf8"))
    .map((byte) => String.fromCharCode(byte))
    .join("")
    .replace(NOT_ATTR_CHAR, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/** Printable ASCII without `"` and `\`; everything else becomes `_`. */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\]/g, "_");
}

export function contentDisposition(filename: string, disposition: "attachment" | "inline" = "attachment"): string {
  // Only the last path segment: a download name is a file name, not a path.
  const base = filename.split(/[/\\]/).pop() || "download";
  return `${disposition}; filename="${asciiFallback(base)}"; filename*=UTF-8''${encodeExtValue(base)}`;
}
