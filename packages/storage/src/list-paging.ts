/** Paging of `list`: the page size and the opaque continuation token (the last key, base64url). */

export const MAX_LIST_LIMIT = 1000;

export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new Error(`list limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  }
  return limit;
}

export function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

export function decodeContinuationToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error("continuationToken is not a token returned by list");
  return Buffer.from(token, "base64url").toString("utf8");
}
