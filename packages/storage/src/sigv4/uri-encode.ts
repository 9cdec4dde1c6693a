/**
 * SigV4's URI encoding: every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~` is
 * percent-encoded with upper-case hex (RFC 3986). `encodeURIComponent` leaves `! ' ( ) *` alone,
 * so those are encoded here too.
 */
const EXTRA_RESERVED = /[!'()*]/g;

function encodeExtra(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(EXTRA_RESERVED, encodeExtra);
}

/** A path: each `/`-separated segment encoded, the slashes kept (S3 does not double-encode). */
export function uriEncodePath(path: string): string {
  return path.split("/").map(uriEncode).join("/");
}
