/**
 * Finds a rule's files: a walk of the folder tree at start and every `rescanSeconds`, and change
 * events (inotify through fs.watch, one watch per folder) in between, so an idle agent with many
 * files does nothing until something changes. A folder that cannot be watched (inotify limits) is
 * still walked.
 */
import { watch, type FSWatcher } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

export type TFileEvent = { file: string; relative: string; stat: { size: number; mtimeMs: number } | null; error?: NodeJS.ErrnoException };

export type TWatcherEvents = {
  /** A file was seen (stat), vanished (stat null), or could not be looked at (error). */
  onFile(event: TFileEvent): void;
  /** Whether the agent already knows this file (a light walk does not look at such files again). */
  isKnown(file: string): boolean;
  onProblem(key: string, message: string): void;
};

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(
    readonly folder: string,
    private readonly accepts: (relative: string) => boolean,
    private readonly events: TWatcherEvents,
  ) {}

  /**
   * Walks the whole tree; resolves when every file was reported. A light walk (`full: false`)
   * only looks at files the agent does not know yet: changes to known files arrive as change
   * events, and a full walk now and then catches any event the kernel dropped.
   */
  async scan(options: { full: boolean } = { full: true }): Promise<void> {
    this.full = options.full;
    await this.walk(this.folder);
    this.full = true;
  }

  private full = true;

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private async walk(dir: string): Promise<void> {
    if (this.closed) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dir !== this.folder) return;
      this.events.onProblem(
        `dir:${dir}`,
        `cannot read the folder ${dir}: ${code === "EACCES" ? "permission denied" : (code ?? (error as Error).message)}` +
          " (looks again at the next scan)",
      );
      return;
    }
    this.watchDir(dir);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(full);
      else if (entry.isFile() && (this.full || !this.events.isKnown(full))) await this.look(full);
    }
  }

  private async look(file: string): Promise<void> {
    const relative = path.relative(this.folder, file).split(path.sep).join("/");
    if (!this.accepts(relative)) return;
    try {
      const info = await lstat(file);
      if (info.isDirectory()) {
        await this.walk(file);
        return;
      }
      if (!info.isFile()) return;
      this.events.onFile({ file, relative, stat: { size: info.size, mtimeMs: info.mtimeMs } });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.events.onFile({ file, relative, stat: null, ...(code === "ENOENT" ? {} : { error: error as NodeJS.ErrnoException }) });
    }
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.closed) return;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (this.closed) return;
        if (!name) return void this.walk(dir).catch(() => {});
        const full = path.join(dir, name.toString());
        void lstat(full).then(
          (info) => (info.isDirectory() ? this.walk(full) : this.look(full)),
          () => this.look(full),
        );
      });
      watcher.on("error", () => {
        watcher.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, watcher);
    } catch (error) {
      this.events.onProblem(
        "watch",
        `cannot watch ${dir} for changes (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
          "new files there are found by the periodic scan",
      );
    }
  }
}
