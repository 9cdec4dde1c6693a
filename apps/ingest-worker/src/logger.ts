/** Structured JSON logs (pino); handlers log through children scoped to device/session/request. */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, name = "ingest-worker"): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
