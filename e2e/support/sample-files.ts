/** Small real files of each preview kind, generated (no binary fixtures in the repo). */
import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG whose pixels come from `pixel(x, y)`. */
function makePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A camera-like frame: sky, ground, and a marker whose position depends on `seed`. */
export function cameraFrame(seed: number, width = 320, height = 240): Buffer {
  const mx = (seed * 53) % width;
  const my = height / 2 + ((seed * 29) % (height / 3));
  return makePng(width, height, (x, y) => {
    if ((x - mx) ** 2 + (y - my) ** 2 < 300) return [230, 60, 40];
    if (y < height * 0.55) return [90 + (y * 80) / height, 140 + (y * 60) / height, 220];
    return [70 + ((x + seed * 7) % 40), 110, 60];
  });
}

/** 16-bit mono WAV: a short tone. */
function makeWav(seconds = 1, frequency = 440, rate = 8000): Buffer {
  const samples = Math.floor(seconds * rate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * frequency * i) / rate) * 12000), i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** A robot log of `lines` lines (big enough to need the head/tail preview when large). */
export function makeLog(lines: number, start = Date.UTC(2026, 10, 23, 9, 0, 0)): string {
  const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN"];
  const messages = [
    "navigation: waypoint reached",
    "lidar: scan ok (1080 points)",
    "battery: 78%",
    "planner: replanning around obstacle",
    "camera: frame captured",
  ];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(`${new Date(start + i * 250).toISOString()} ${levels[i % levels.length]} [${i + 1}] ${messages[i % messages.length]}`);
  }
  return `${out.join("\n")}\n`;
}

export function demoFiles(): { filename: string; contentType: string; body: Buffer | string }[] {
  return [
    ...Array.from({ length: 6 }, (_, i) => ({
      filename: `camera/front/frame_${String(i + 1).padStart(4, "0")}.png`,
      contentType: "image/png",
      body: cameraFrame(i + 1),
    })),
    { filename: "logs/system.log", contentType: "text/plain", body: makeLog(12_000) },
    { filename: "logs/planner.log", contentType: "text/plain", body: makeLog(120) },
    {
      filename: "mission.json",
      contentType: "application/json",
      body: JSON.stringify({
        mission: "warehouse-loop",
        waypoints: [
          [0, 0],
          [12.5, 3.2],
          [20, -4],
        ],
        robot: { model: "AMR-2", firmware: "4.1.0" },
      }),
    },
    { filename: "audio/alarm.wav", contentType: "audio/wav", body: makeWav(1) },
    { filename: "telemetry.csv", contentType: "text/csv", body: "t,x,y,battery\n0,0,0,0.80\n1,0.4,0.1,0.80\n2,0.9,0.3,0.79\n" },
  ];
}
