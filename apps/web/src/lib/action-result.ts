/** What a server action answers a form with. */
export type TActionResult<R = undefined> =
  { ok: true; message?: string; data?: R } | { ok: false; error: string; fieldErrors?: Record<string, string> };

/** FormData → plain object for the zod schemas (checkboxes "on" → true; Next's own fields dropped). */
export function formDataToObject(data: FormData | Record<string, unknown>): Record<string, unknown> {
  if (!(data instanceof FormData)) return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of data.entries()) {
    if (key.startsWith("$ACTION")) continue;
    out[key] = value === "on" ? true : value;
  }
  return out;
}
