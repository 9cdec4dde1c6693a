/**
 * Byte counts for people, in IEC units (1 KiB = 1024 B), the one convention of the dashboard
 * and the device command line. Browser-safe: no Node APIs.
 */
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/**
 * `209715200` → `"200 MiB"`, `1536` → `"1.5 KiB"`. Three significant digits at most; whole
 * bytes below 1 KiB. `null`, `undefined` and non-numbers give an em dash.
 */
export function formatBytes(value: number | bigint | string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return "—";
  const sign = n < 0 ? "-" : "";
  let v = Math.abs(n);
  let unit = 0;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${Math.round(v)} B`;
  // 1023.96 KiB would print as "1024 KiB": carry into the next unit instead.
  if (v >= 1023.5 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  const text = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1).replace(/\.0$/, "") : v.toFixed(2).replace(/\.?0+$/, "");
  return `${sign}${text} ${UNITS[unit]}`;
}
