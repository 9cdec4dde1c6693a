/** Upload progress: a live bar on a terminal, a plain line every few seconds otherwise. */
import { formatBytes } from "@fleetdrop/shared/format/bytes";
import type { TUploadProgress } from "../upload";

/** The dashboard's formatter: the same file shows the same size on the device and in the browser. */
export { formatBytes };

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let lastPrint = 0;
  const tty = Boolean(stream.isTTY);
  return {
    update({ sent, total }: TUploadProgress) {
      const now = Date.now();
      const done = sent >= total;
      if (!done && now - lastPrint < (tty ? 100 : 5000)) return;
      lastPrint = now;
      const elapsed = Math.max(0.001, (now - started) / 1000);
      const rate = sent / elapsed;
      const pct = total > 0 ? Math.min(100, (sent / total) * 100) : 100;
      const text = `${formatBytes(sent)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${formatEta((total - sent) / rate)}`;
      if (tty) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${text}\u001b[K`);
        if (done) stream.write("\n");
      } else {
        stream.write(`${label}: ${pct.toFixed(0)}% ${text}\n`);
      }
    },
  };
}
