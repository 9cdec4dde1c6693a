/**
 * The agent's durable queue: every file it found ready, until the platform confirmed it, and the
 * files it confirmed (so a restart does not send them again), with the sessions it opened. Two
 * files in the state folder:
 * - `queue.json`: what still waits (or is flagged) and the sessions, small, replaced atomically
 *   (written beside it, flushed, renamed), so a crash leaves the previous or the next version;
 * - `done.jsonl`: one line per confirmed file (or a removal), appended and flushed, rewritten
 *   whole when mostly outdated. Tens of thousands of confirmed files then cost nothing per
 *   change, where rewriting them all would delay every upload.
 * A confirmed line wins over a waiting entry of the same version, so a crash between the two
 * writes never sends a file twice.
 */
import { appendFile, open, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

export type TEntryStatus = "waiting" | "done" | "failed";

export type TQueueEntry = {
  rule: string;
  /** Absolute path of the file. */
  path: string;
  /** Its name in the session. */
  name: string;
  size: number;
  mtimeMs: number;
  priority: number;
  status: TEntryStatus;
  /** When it was found ready (ms since the epoch, device clock). */
  readyAt: number;
  /** Which session it goes to (sessions.ts), fixed when it became ready. */
  sessionKey: string;
  attempts: number;
  /** Not before then (back-off). */
  nextAttemptAt: number;
  /** An upload of this version began (a later `file_exists` may be its own upload, if size and SHA-256 say so). */
  started?: boolean;
  /** A version of this name may be stored already: replace it. */
  overwrite?: boolean;
  lastError?: string;
  doneAt?: number;
};

export type TSessionRecord = { id: number; generation: number; closed?: boolean };

/** A line of done.jsonl. */
type TDoneLine =
  | Pick<TQueueEntry, "rule" | "path" | "name" | "size" | "mtimeMs" | "priority" | "readyAt" | "sessionKey" | "doneAt">
  | { rule: string; path: string; removed: true };

type TStateFile = {
  version: 1;
  entries: TQueueEntry[];
  sessions: Record<string, TSessionRecord>;
  /** Bumped when a session key's session was closed under the agent: the next open is a new one. */
  generations: Record<string, number>;
};

export type TBacklog = { files: number; bytes: number; oldestReadyAt: number | null };

export class AgentQueue {
  private readonly entries = new Map<string, TQueueEntry>();
  readonly sessions = new Map<string, TSessionRecord>();
  readonly generations = new Map<string, number>();
  private dirty = false;
  private saving: Promise<void> | null = null;
  /** done.jsonl lines not yet written. */
  private pendingDone: TDoneLine[] = [];
  private doneLines = 0;
  readonly doneFile: string;

  private constructor(readonly file: string) {
    this.doneFile = path.join(path.dirname(file), "done.jsonl");
  }

  /** Loads the queue of a state folder (empty when there is none yet). */
  static async load(stateDir: string): Promise<AgentQueue> {
    await mkdir(stateDir, { recursive: true });
    const queue = new AgentQueue(path.join(stateDir, "queue.json"));
    let text: string | null = null;
    try {
      text = await readFile(queue.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const done = new Map<string, TQueueEntry>();
    const log = await readFile(queue.doneFile, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    for (const line of log.split("\n")) {
      if (line === "") continue;
      let record: TDoneLine;
      try {
        record = JSON.parse(line) as TDoneLine;
      } catch {
        continue; // the last line of a write cut short by a power cut
      }
      queue.doneLines++;
      if ("removed" in record) done.delete(keyOf(record.rule, record.path));
      else done.set(keyOf(record.rule, record.path), { ...record, status: "done", attempts: 0, nextAttemptAt: 0, started: true });
    }
    for (const [key, entry] of done) queue.entries.set(key, entry);
    if (text !== null) {
      const state = JSON.parse(text) as TStateFile;
      if (state.version !== 1) throw new Error(`${queue.file}: unknown version ${String(state.version)}`);
      for (const entry of state.entries) {
        const key = keyOf(entry.rule, entry.path);
        const confirmed = done.get(key);
        if (confirmed && confirmed.size === entry.size && confirmed.mtimeMs === entry.mtimeMs) continue;
        queue.entries.set(key, entry);
      }
      for (const [key, record] of Object.entries(state.sessions)) queue.sessions.set(key, record);
      for (const [key, generation] of Object.entries(state.generations ?? {})) queue.generations.set(key, generation);
    }
    return queue;
  }

  get(rule: string, file: string): TQueueEntry | undefined {
    return this.entries.get(keyOf(rule, file));
  }

  all(): IterableIterator<TQueueEntry> {
    return this.entries.values();
  }

  /** A file became ready: queue it, unless this very version is queued or done already. */
  offer(entry: Omit<TQueueEntry, "status" | "attempts" | "nextAttemptAt">): TQueueEntry | null {
    const key = keyOf(entry.rule, entry.path);
    const known = this.entries.get(key);
    if (known && known.size === entry.size && known.mtimeMs === entry.mtimeMs) return null;
    const next: TQueueEntry = {
      ...entry,
      status: "waiting",
      attempts: 0,
      nextAttemptAt: entry.readyAt,
      // A new version of a file already sent replaces it.
      overwrite: known?.status === "done" || known?.started === true || entry.overwrite === true,
    };
    this.entries.set(key, next);
    this.changed();
    return next;
  }

  /** The waiting entry to send next: highest priority, then the one ready first. */
  next(now: number): TQueueEntry | null {
    let best: TQueueEntry | null = null;
    for (const entry of this.entries.values()) {
      if (entry.status !== "waiting" || entry.nextAttemptAt > now) continue;
      if (!best || entry.priority > best.priority || (entry.priority === best.priority && entry.readyAt < best.readyAt)) best = entry;
    }
    return best;
  }

  /** When the next waiting entry may be tried (null: none waits). */
  nextAttemptAt(): number | null {
    let at: number | null = null;
    for (const entry of this.entries.values())
      if (entry.status === "waiting" && (at === null || entry.nextAttemptAt < at)) at = entry.nextAttemptAt;
    return at;
  }

  update(entry: TQueueEntry, patch: Partial<TQueueEntry>): void {
    const wasDone = entry.status === "done";
    Object.assign(entry, patch);
    if (entry.status === "done" && !wasDone)
      this.pendingDone.push({
        rule: entry.rule,
        path: entry.path,
        name: entry.name,
        size: entry.size,
        mtimeMs: entry.mtimeMs,
        priority: entry.priority,
        readyAt: entry.readyAt,
        sessionKey: entry.sessionKey,
        doneAt: entry.doneAt,
      });
    this.changed();
  }

  remove(entry: TQueueEntry): void {
    this.entries.delete(keyOf(entry.rule, entry.path));
    this.pendingDone.push({ rule: entry.rule, path: entry.path, removed: true });
    this.changed();
  }

  /** Files not yet confirmed (waiting or flagged), their bytes, and the oldest. */
  backlog(): TBacklog {
    let files = 0;
    let bytes = 0;
    let oldestReadyAt: number | null = null;
    for (const entry of this.entries.values()) {
      if (entry.status === "done") continue;
      files++;
      bytes += entry.size;
      if (oldestReadyAt === null || entry.readyAt < oldestReadyAt) oldestReadyAt = entry.readyAt;
    }
    return { files, bytes, oldestReadyAt };
  }

  /** Whether any entry not yet done still goes to this session. */
  sessionInUse(sessionKey: string): boolean {
    for (const entry of this.entries.values()) if (entry.sessionKey === sessionKey && entry.status !== "done") return true;
    return false;
  }

  changed(): void {
    this.dirty = true;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  /** Writes the queue if it changed; concurrent calls share one write. Throws what the disk said (ENOSPC, EACCES). */
  async save(): Promise<void> {
    while (this.saving) await this.saving;
    if (!this.dirty) return;
    this.dirty = false;
    const lines = this.pendingDone;
    this.pendingDone = [];
    this.saving = this.write(lines).catch((error: unknown) => {
      this.pendingDone = [...lines, ...this.pendingDone];
      this.dirty = true;
      throw error;
    });
    try {
      await this.saving;
    } finally {
      this.saving = null;
    }
  }

  private async write(lines: TDoneLine[]): Promise<void> {
    // Confirmations first: a crash before queue.json is rewritten must not send them again.
    const done = [...this.entries.values()].filter((entry) => entry.status === "done");
    if (this.doneLines + lines.length > 2 * done.length + 1000) {
      const all = done.map((entry) =>
        JSON.stringify({
          rule: entry.rule,
          path: entry.path,
          name: entry.name,
          size: entry.size,
          mtimeMs: entry.mtimeMs,
          priority: entry.priority,
          readyAt: entry.readyAt,
          sessionKey: entry.sessionKey,
          doneAt: entry.doneAt,
        }),
      );
      await writeAtomically(this.doneFile, all.length > 0 ? `${all.join("\n")}\n` : "");
      this.doneLines = all.length;
    } else if (lines.length > 0) {
      const handle = await open(this.doneFile, "a");
      try {
        await appendFile(handle, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.doneLines += lines.length;
    }
    const state: TStateFile = {
      version: 1,
      entries: [...this.entries.values()].filter((entry) => entry.status !== "done"),
      sessions: Object.fromEntries(this.sessions),
      generations: Object.fromEntries(this.generations),
    };
    await writeAtomically(this.file, JSON.stringify(state));
  }
}

function keyOf(rule: string, file: string): string {
  return `${rule}\u0000${file}`;
}

/** Write beside, flush to disk, rename over: the file is always a whole version. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, file);
}
