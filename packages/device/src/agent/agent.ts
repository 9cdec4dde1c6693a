/**
 * The upload agent: watches folders, queues ready files durably, sends them by priority within
 * the time windows and the bandwidth cap, and keeps going through outages. One upload at a time,
 * so a priority means what it says and a cap is simple to hold.
 *
 * What must stay true: a file leaves the queue only after the platform confirmed it (then the
 * opt-in keep/move/delete runs); a file is never read for upload before it is ready; a restart
 * continues from the state folder (an MQTT transfer from the bytes the platform holds).
 */
import { createHash, randomUUID } from "node:crypto";
import { copyFile, mkdir, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { FleetdropDevice } from "../client";
import { alreadyStored, FleetdropError, StorageRejectedError } from "../errors";
import { sha256OfFile } from "../file-digest";
import type { TAgentConfig, TAgentRule } from "./config";
import { createPathFilter } from "./glob";
import type { TAgentLog } from "./log";
import { AgentQueue, type TQueueEntry } from "./queue";
import { ReadinessTracker } from "./readiness";
import { createBandwidthLimiter, msUntilOpen } from "./schedule";
import { SessionMapper, sessionKeyOf } from "./sessions";
import { TRANSPORTS } from "./transport";
import { FolderWatcher, type TFileEvent } from "./watcher";

export type TAgentDeps = {
  config: TAgentConfig;
  /** Connects to the broker (throws while it is unreachable; the agent tries again). */
  connect(): Promise<FleetdropDevice>;
  log: TAgentLog;
  now?: () => number;
};

/** A clock further off than this from the platform's makes upload forms look expired. */
const CLOCK_SKEW_LIMIT_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export class UploadAgent {
  private queue!: AgentQueue;
  private sessions!: SessionMapper;
  private device: FleetdropDevice | null = null;
  private running = false;
  private readonly watchers: FolderWatcher[] = [];
  private readonly readiness = new Map<string, ReadinessTracker>();
  private readonly recheck = new Map<string, NodeJS.Timeout>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private wake: () => void = () => {};
  private loop: Promise<void> | null = null;
  private readonly runId = randomUUID().slice(0, 8);
  private readonly runStartedAt: Date;
  private readonly now: () => number;
  private readonly throttle: ((bytes: number) => Promise<void>) | undefined;
  private statusDue = false;
  /** Files whose upload started this run (tests and the benchmark read it). */
  readonly started: { file: string; at: number }[] = [];

  constructor(private readonly deps: TAgentDeps) {
    this.now = deps.now ?? Date.now;
    this.runStartedAt = new Date(this.now());
    this.throttle = createBandwidthLimiter(deps.config.maxBytesPerSecond);
  }

  private get log() {
    return this.deps.log;
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    this.queue = await AgentQueue.load(config.stateDir);
    this.sessions = new SessionMapper(this.queue, config.connection.deviceId ?? "", this.runStartedAt);
    this.running = true;
    const waiting = this.queue.backlog();
    this.log.info(
      `agent started: ${config.rules.length} rule${config.rules.length === 1 ? "" : "s"}, ` +
        `${waiting.files} file${waiting.files === 1 ? "" : "s"} waiting from before, state in ${config.stateDir}`,
    );
    for (const rule of config.rules) {
      this.readiness.set(rule.name, new ReadinessTracker(rule.ready));
      const watcher = new FolderWatcher(rule.folder, createPathFilter(rule.include, rule.exclude), {
        onFile: (event) => this.onFile(rule, event),
        isKnown: (file) => this.queue.get(rule.name, file) !== undefined,
        onProblem: (key, message) => this.log.problem(`${rule.name}:${key}`, `${rule.name}: ${message}`),
      });
      this.watchers.push(watcher);
    }
    await Promise.all(this.watchers.map((watcher) => watcher.scan()));
    let walks = 0;
    // Every walk finds files the change events missed; every twelfth also looks at known files again.
    this.every(config.rescanSeconds * 1000, () => {
      const full = ++walks % 12 === 0;
      void Promise.all(this.watchers.map((w) => w.scan({ full })));
    });
    this.every(config.statusSeconds * 1000, () => void this.reportStatus());
    this.every(2000, () => {
      if (this.queue.isDirty) void this.persist();
      if (this.statusDue) void this.reportStatus();
    });
    void this.connectLoop();
    this.loop = this.pump();
  }

  /** SIGTERM: no new uploads, the one under way gets `stopGraceSeconds`, then everything is saved and closed. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    for (const watcher of this.watchers) watcher.close();
    for (const timer of [...this.timers, ...this.recheck.values()]) clearTimeout(timer);
    const grace = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), this.deps.config.stopGraceSeconds * 1000).unref());
    // The loop ends once the upload under way does; one that takes longer is left to the next start.
    if ((await Promise.race([this.loop?.then(() => "done" as const), grace])) === "late")
      this.log.info("stopping with an upload under way: it continues from where it stopped at the next start");
    if (this.device?.client.connected) {
      await this.sessions.closeFinished(this.device, this.currentKeys(), true).catch(() => {});
      await this.reportStatus();
    }
    await this.persist();
    await this.device?.close().catch(() => {});
    this.log.info("agent stopped");
  }

  backlog() {
    return this.queue.backlog();
  }

  entries(): TQueueEntry[] {
    return [...this.queue.all()];
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private currentKeys(): Set<string> {
    return new Set(this.deps.config.rules.map((rule) => sessionKeyOf(rule, this.runId, new Date(this.now()))));
  }

  // ------------------------------------------------------------------------------------------
  // Finding ready files

  private onFile(rule: TAgentRule, event: TFileEvent): void {
    if (!this.running) return;
    // A change event for the file under upload must not replace its entry mid-upload: it is kept,
    // and the file is looked at again once the upload ends (the change may come after send's own
    // last look, e.g. while the done state is being saved).
    if (event.file === this.sending) {
      this.changedWhileSending = { rule, event };
      return;
    }
    const tracker = this.readiness.get(rule.name)!;
    if (!event.stat) {
      tracker.forget(event.file);
      if (event.error)
        this.log.problem(
          `read:${event.file}`,
          `${rule.name}: cannot look at ${event.file}: ${describeErrno(event.error)}; looks again at the next scan`,
        );
      return;
    }
    const known = this.queue.get(rule.name, event.file);
    if (known && known.size === event.stat.size && known.mtimeMs === event.stat.mtimeMs) return;
    const verdict = tracker.observe(event.file, event.relative, event.stat, this.now());
    if (verdict.state === "ignore") return;
    if (verdict.state === "wait") return this.recheckAt(rule, event, verdict.at);
    const entry = this.queue.offer({
      rule: rule.name,
      path: event.file,
      name: `${rule.prefix}${event.relative}`,
      size: event.stat.size,
      mtimeMs: event.stat.mtimeMs,
      priority: rule.priority,
      readyAt: this.now(),
      sessionKey: sessionKeyOf(rule, this.runId, new Date(this.now())),
    });
    if (entry) {
      this.statusDue = true;
      this.wake();
    }
  }

  /** Looks at a file again when it may have become ready (the timer of `stableSeconds`). */
  private recheckAt(rule: TAgentRule, event: TFileEvent, at: number): void {
    clearTimeout(this.recheck.get(event.file));
    const timer = setTimeout(
      () => {
        this.recheck.delete(event.file);
        void this.lookAgain(rule, event);
      },
      Math.max(0, at - this.now()),
    );
    timer.unref();
    this.recheck.set(event.file, timer);
  }

  // ------------------------------------------------------------------------------------------
  // Connection and status

  private async connectLoop(): Promise<void> {
    for (let attempt = 1; this.running && !this.device; attempt++) {
      try {
        const device = await this.deps.connect();
        if (!this.running) {
          await device.close();
          return;
        }
        this.device = device;
        device.client.on("offline", () =>
          this.log.problem(
            "broker",
            `lost the broker (${this.deps.config.connection.url ?? "the configured broker"}); keeps collecting files and reconnects`,
          ),
        );
        device.client.on("connect", () => {
          this.log.resolved("broker", "connected to the broker again");
          this.statusDue = true;
          this.wake();
        });
        this.log.resolved("broker", "connected to the broker");
        this.log.info(`connected as ${device.options.deviceId}`);
        this.statusDue = true;
        this.wake();
      } catch (error) {
        this.log.problem("broker", `cannot reach the broker: ${(error as Error).message}; keeps collecting files and tries again`);
        await this.sleep(Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5)));
      }
    }
  }

  private get online(): boolean {
    return this.device !== null && this.device.client.connected;
  }

  private async reportStatus(): Promise<void> {
    if (!this.online) return;
    this.statusDue = false;
    const backlog = this.queue.backlog();
    const last = this.log.lastError();
    try {
      const answer = await this.device!.request("agentStatus", {
        backlog_files: backlog.files,
        backlog_bytes: backlog.bytes,
        oldest_waiting_at: backlog.oldestReadyAt === null ? null : new Date(backlog.oldestReadyAt).toISOString(),
        last_error: last?.message ?? null,
        last_error_at: last ? last.at.toISOString() : null,
      });
      this.checkClock(answer.timestamp);
    } catch {
      // The next report says it again; an unreachable platform is logged by the connection.
      this.statusDue = true;
    }
  }

  private checkClock(platformTime: string): void {
    const skew = this.now() - Date.parse(platformTime);
    if (!Number.isFinite(skew)) return;
    if (Math.abs(skew) > CLOCK_SKEW_LIMIT_MS)
      this.log.problem(
        "clock",
        `this device's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} the platform's ` +
          `(device ${new Date(this.now()).toISOString()}, platform ${platformTime}): fix its time (NTP); ` +
          "upload forms may look expired and day sessions be wrong",
      );
    else this.log.resolved("clock", "the device's clock agrees with the platform's again");
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = () => {};
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = () => {};
        resolve();
      };
    });
  }

  private async pump(): Promise<void> {
    while (this.running) {
      if (!this.online) {
        await this.sleep(1000);
        continue;
      }
      const closedFor = msUntilOpen(this.deps.config.windows, new Date(this.now()));
      if (closedFor > 0) {
        this.log.problem("window", `outside the upload windows (${this.deps.config.windows.map((w) => w.text).join(", ")}); files wait`);
        await this.sleep(Math.min(closedFor, 60_000));
        continue;
      }
      this.log.resolved("window", "an upload window is open");
      const entry = this.queue.next(this.now());
      if (!entry) {
        const at = this.queue.nextAttemptAt();
        await this.sleep(at === null ? 60_000 : Math.max(10, at - this.now()));
        continue;
      }
      this.sending = entry.path;
      this.changedWhileSending = null;
      try {
        await this.send(entry);
      } finally {
        this.sending = null;
      }
      const missed = this.changedWhileSending as { rule: TAgentRule; event: TFileEvent } | null;
      this.changedWhileSending = null;
      if (missed) await this.lookAgain(missed.rule, missed.event);
      await this.sessions.closeFinished(this.device!, this.currentKeys(), false).catch(() => {});
    }
  }

  /** The file being uploaded now (one at a time). */
  private sending: string | null = null;
  /** A change event for that file that arrived during its upload. */
  private changedWhileSending: { rule: TAgentRule; event: TFileEvent } | null = null;

  private async lookAgain(rule: TAgentRule, event: TFileEvent): Promise<void> {
    const info = await stat(event.file).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) this.onFile(rule, { ...event, stat: null, ...(info.code === "ENOENT" ? {} : { error: info }) });
    else this.onFile(rule, { ...event, stat: { size: info.size, mtimeMs: info.mtimeMs } });
  }

  private async send(entry: TQueueEntry): Promise<void> {
    const rule = this.deps.config.rules.find((r) => r.name === entry.rule);
    if (!rule) {
      // A rule removed from the config: its files are no longer the agent's to send.
      this.queue.remove(entry);
      return;
    }
    const transport = TRANSPORTS[rule.transport];
    const key = `file:${entry.path}`;
    const before = await stat(entry.path).catch((error: NodeJS.ErrnoException) => error);
    if (before instanceof Error) return this.unreadable(entry, key, before);
    if (before.size !== entry.size || before.mtimeMs !== entry.mtimeMs)
      return this.changed(rule, entry, "changed after it was found ready");
    let sessionId: number | null = null;
    try {
      sessionId = await this.sessions.sessionFor(this.device!, entry.sessionKey);
      this.queue.update(entry, { started: true, attempts: entry.attempts + 1 });
      await this.persist();
      this.started.push({ file: entry.path, at: this.now() });
      const outcome = await transport.upload(this.device!, {
        sessionId,
        path: entry.path,
        name: entry.name,
        overwrite: entry.overwrite === true,
        requestId: `agent-${hashOf([entry.path, entry.size, entry.mtimeMs, entry.attempts])}`,
        stateFile: path.join(this.deps.config.stateDir, "transfers", `${hashOf([entry.rule, entry.path])}.json`),
        throttle: this.throttle,
      });
      const after = await stat(entry.path).catch(() => null);
      if (!after) this.log.info(`${entry.name}: uploaded, and the file was removed meanwhile`);
      else if (after.size !== entry.size || after.mtimeMs !== entry.mtimeMs)
        return this.changed(rule, entry, "changed while it was being uploaded: sends the new version once it is ready", true);
      this.queue.update(entry, { status: "done", doneAt: this.now(), lastError: undefined, nextAttemptAt: 0 });
      await this.persist();
      this.log.resolved(key);
      this.log.info(`uploaded ${entry.name} (${entry.size} B) to session ${sessionId} over ${transport.name}, file_id ${outcome.fileId}`);
      this.statusDue = true;
      await this.afterUpload(rule, entry);
    } catch (error) {
      await this.failed(rule, entry, key, error, sessionId);
    }
  }

  private async failed(rule: TAgentRule, entry: TQueueEntry, key: string, error: unknown, sessionId: number | null): Promise<void> {
    const code = error instanceof FleetdropError ? error.code : ((error as NodeJS.ErrnoException).code ?? "error");
    const message = (error as Error).message;
    if (code === "ENOENT") return this.unreadable(entry, key, error as NodeJS.ErrnoException);
    if (code === "EACCES" || code === "EPERM") return this.unreadable(entry, key, error as NodeJS.ErrnoException);
    if (code === "session_closed" || code === "session_not_found") {
      this.log.info(`${entry.name}: its session was closed on the platform; opens a new one`);
      this.sessions.sessionGone(entry.sessionKey);
      return this.retry(entry, 0, message);
    }
    if (code === "file_changed" || code === "checksum_mismatch")
      return this.changed(rule, entry, "changed while it was being uploaded: sends it again once it is ready");
    if (code === "file_exists") return this.nameTaken(rule, entry, key, error as FleetdropError, sessionId);
    if (error instanceof StorageRejectedError && error.needsFreshForm) {
      this.log.problem(
        key,
        `${entry.name}: storage refused the upload form as expired or invalid (${error.code}); ` +
          `is a clock far off (device ${new Date(this.now()).toISOString()})? retrying`,
      );
      return this.retry(entry, this.backoff(entry), message);
    }
    const retryable = !(error instanceof FleetdropError) || error.retryable || code === "incomplete";
    if (retryable) {
      if (this.online) this.log.problem(key, `${entry.name}: upload failed (${message} [${code}]); retrying with back-off`);
      return this.retry(entry, Math.max(this.backoff(entry), ((error as FleetdropError).retryAfterSeconds ?? 0) * 1000), message);
    }
    this.log.problem(
      key,
      `${entry.name}: the platform refused it: ${message} [${code}]; the file stays, and is tried again when it changes`,
    );
    this.queue.update(entry, { status: "failed", lastError: `${message} [${code}]` });
    this.statusDue = true;
  }

  /**
   * `file_exists`: a file of this name is in the session. It is this file only when the platform's
   * size and SHA-256 of it equal this file's (an earlier attempt stored it and its answer was lost):
   * then it is done, and the after-upload action runs. Anything else (another uploader's file, an
   * older version, a digest the platform never computed) must not cost the local copy: the file is
   * flagged and kept, and tried again only once it changes.
   */
  private async nameTaken(
    rule: TAgentRule,
    entry: TQueueEntry,
    key: string,
    error: FleetdropError,
    sessionId: number | null,
  ): Promise<void> {
    const existing = error.existing;
    const where = `session ${sessionId ?? "?"}`;
    // Not known to be this file's: a later version of it must not replace what is stored there.
    this.queue.update(entry, { started: false });
    // The digest is of this version only if the file is unchanged after it was read.
    const changedMeanwhile = new Error("changed after it was found ready");
    let same: boolean;
    try {
      same =
        (await alreadyStored(error, {
          size: entry.size,
          sha256: async () => {
            const digest = await sha256OfFile(entry.path);
            const after = await stat(entry.path).catch(() => null);
            if (!after || after.size !== entry.size || after.mtimeMs !== entry.mtimeMs) throw changedMeanwhile;
            return digest;
          },
        })) !== null;
    } catch (failure) {
      if (failure === changedMeanwhile) return this.changed(rule, entry, changedMeanwhile.message);
      return this.unreadable(entry, key, failure as NodeJS.ErrnoException);
    }
    if (same) {
      this.queue.update(entry, { status: "done", doneAt: this.now(), lastError: undefined, nextAttemptAt: 0 });
      await this.persist();
      this.log.resolved(key);
      this.log.info(`${entry.name}: already in ${where} with the same size and SHA-256 (an earlier attempt stored it)`);
      this.statusDue = true;
      return this.afterUpload(rule, entry);
    }
    const what = !existing?.sha256
      ? `a file named ${entry.name} is already in ${where}, and the platform knows no SHA-256 of it to tell whether it is this one`
      : `a different file named ${entry.name} is already in ${where} (${existing.size ?? "?"} B, SHA-256 ${existing.sha256.slice(0, 12)}…)`;
    // This outcome replaces whatever was reported of the file before (e.g. that it changed): say it.
    this.log.resolved(key);
    this.log.problem(key, `${entry.name}: ${what} [file_exists]; kept here, not uploaded (tried again when it changes)`);
    this.queue.update(entry, { status: "failed", lastError: `${error.message} [file_exists]` });
    this.statusDue = true;
  }

  private retry(entry: TQueueEntry, delayMs: number, message: string): void {
    this.queue.update(entry, { nextAttemptAt: this.now() + delayMs, lastError: message });
    this.statusDue = true;
  }

  private backoff(entry: TQueueEntry): number {
    return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(entry.attempts, 12)) * (0.8 + Math.random() * 0.4);
  }

  private unreadable(entry: TQueueEntry, key: string, error: NodeJS.ErrnoException): void {
    if (error.code === "ENOENT") {
      this.log.info(`${entry.name}: the file was deleted before its upload was confirmed; nothing left to send`);
      this.queue.remove(entry);
      this.log.resolved(key);
      this.statusDue = true;
      return;
    }
    this.log.problem(key, `${entry.name}: cannot read ${entry.path}: ${describeErrno(error)}; tries again every few minutes`);
    this.retry(entry, MAX_BACKOFF_MS, describeErrno(error));
  }

  /** The file changed under the agent: forget this version and wait for it to be ready again. */
  private async changed(rule: TAgentRule, entry: TQueueEntry, what: string, storedOnce = false): Promise<void> {
    if (this.sending === entry.path) this.sending = null;
    this.log.problem(`file:${entry.path}`, `${entry.name}: ${what}`);
    // mtime -1: the next look at the file is a new version, whatever its size.
    this.queue.update(entry, {
      status: "failed",
      mtimeMs: -1,
      overwrite: storedOnce || entry.overwrite === true,
      started: storedOnce || entry.started,
    });
    const info = await stat(entry.path).catch(() => null);
    if (!info) return this.unreadable(entry, `file:${entry.path}`, Object.assign(new Error("gone"), { code: "ENOENT" }));
    const relative = path.relative(rule.folder, entry.path).split(path.sep).join("/");
    this.onFile(rule, { file: entry.path, relative, stat: { size: info.size, mtimeMs: info.mtimeMs } });
  }

  private async afterUpload(rule: TAgentRule, entry: TQueueEntry): Promise<void> {
    const action = rule.afterUpload;
    if (action === "keep") return;
    try {
      if (action === "delete") await unlink(entry.path);
      else {
        const target = path.join(action.moveTo, path.relative(rule.folder, entry.path));
        await mkdir(path.dirname(target), { recursive: true });
        await rename(entry.path, target).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== "EXDEV") throw error;
          // Another file system: copy, then remove the original only once the copy is whole.
          await copyFile(entry.path, target);
          await rm(entry.path);
        });
      }
      this.queue.remove(entry);
      await this.persist();
    } catch (error) {
      this.log.problem(
        `after:${entry.path}`,
        `${entry.name}: uploaded, but could not ${action === "delete" ? "delete it" : `move it to ${action.moveTo}`}: ` +
          `${describeErrno(error as NodeJS.ErrnoException)}; it stays where it is`,
      );
    }
  }

  /** Saves the queue; a full disk or a read-only state folder is one line, and the queue stays in memory until it can be written. */
  private async persist(): Promise<void> {
    try {
      await this.queue.save();
      this.log.resolved("state", "the queue is saved again");
    } catch (error) {
      this.log.problem(
        "state",
        `cannot save the queue to ${this.queue.file}: ${describeErrno(error as NodeJS.ErrnoException)}; ` +
          "keeps it in memory and tries again (files found since would be found again after a restart)",
      );
    }
  }
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 24);
}

export function describeErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ENOSPC":
      return "disk full (ENOSPC)";
    case "EDQUOT":
      return "disk quota exceeded (EDQUOT)";
    case "EACCES":
    case "EPERM":
      return `permission denied (${error.code})`;
    case "EROFS":
      return "read-only file system (EROFS)";
    case "ENOENT":
      return "no such file (ENOENT)";
    default:
      return error.code ? `${error.message}` : String(error.message);
  }
}
