/** `attachment; filename="plain"; filename*=UTF-8''encoded` (RFC 6266 / 5987). */
export function contentDisposition(disposition: "attachment" | "inline", filename: string): string {
  const plain = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${plain}"; filename*=UTF-8''${encoded}`;
}
