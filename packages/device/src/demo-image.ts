/**
 * A PNG made in code (node:zlib, no image library, no binary asset): what the demo device and
 * `fleetdrop-device listen` send when the dashboard asks for a capture and there is no camera.
 * Each picture differs (hue from the request, a clock-like bar), so a newcomer sees a new one.
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An RGB PNG of `width`×`height` whose pixels come from `pixel(x, y)` → [r, g, b]. */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  let offset = 0;
  for (let y = 0; y < height; y++) {
    rows[offset++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      rows[offset++] = r;
      rows[offset++] = g;
      rows[offset++] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A 320×240 "camera frame": a sky gradient, hills, a sun placed by the seed, a time bar. */
export function demoFrame(seed: string, now: Date = new Date()): Buffer {
  const digest = createHash("sha256").update(seed).digest();
  const sunX = 40 + (digest[0]! % 240);
  const sunY = 40 + (digest[1]! % 60);
  const tint = digest[2]! % 60;
  const seconds = now.getUTCSeconds() + now.getUTCMinutes() * 60;
  const bar = Math.round((seconds / 3600) * 320);
  return encodePng(320, 240, (x, y) => {
    if (y >= 228) return x < bar ? [255, 196, 0] : [40, 40, 48];
    const dx = x - sunX;
    const dy = y - sunY;
    if (dx * dx + dy * dy < 400) return [255, 220, 90];
    const hill = 160 + Math.round(18 * Math.sin(x / 23 + digest[3]! / 40) + 10 * Math.sin(x / 9));
    if (y > hill) return [30 + tint / 2, 110 + ((x + y) % 7), 60];
    return [70 + tint, 130 + Math.round(y / 3), 230 - Math.round(y / 4)];
  });
}

/** What a capture hook returns for a generated picture. */
export function generatedCapture(requestId: string, now: Date = new Date()) {
  return { data: demoFrame(requestId, now), filename: `capture-${now.toISOString().replace(/[:.]/g, "-")}.png`, contentType: "image/png" };
}
