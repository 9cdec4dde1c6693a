/**
 * The agent's log: one line per event on stderr, and one line per bad situation (disk full, a
 * file that cannot be read, the broker gone, …) however long it lasts, with a line when it
 * clears. The last problem is what agent/status reports as `last_error`.
 */
export type TAgentLog = {
  info(message: string): void;
  /** Logs `message` unless the situation `key` is already reported; remembers it as the last error. */
  problem(key: string, message: string): void;
  /** The situation `key` is over (logs `message` when it had been reported). */
  resolved(key: string, message?: string): void;
  lastError(): { message: string; at: Date } | null;
};

export function createAgentLog(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  now = () => new Date(),
): TAgentLog {
  const open = new Set<string>();
  let last: { message: string; at: Date } | null = null;
  const emit = (level: string, message: string) => write(`${now().toISOString()} ${level} ${message}`);
  return {
    info: (message) => emit("info", message),
    problem(key, message) {
      last = { message: message.slice(0, 1000), at: now() };
      if (open.has(key)) return;
      open.add(key);
      emit("warn", message);
    },
    resolved(key, message) {
      if (!open.delete(key)) return;
      if (message) emit("info", message);
    },
    lastError: () => last,
  };
}
