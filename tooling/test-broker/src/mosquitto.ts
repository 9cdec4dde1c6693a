/**
 * A real Mosquitto for tests, with the test's own configuration, on a free port, in its own
 * temporary folder. Stop it (or restart it) from the test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

function mosquittoBinary(): string {
  const found = CANDIDATES.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error("mosquitto is not installed: `apt-get install -y mosquitto` (the test command installs it on Debian)");
  }
  return found;
}

/** Where deploy/mosquitto's configuration names the dynamic-security plugin (the eclipse-mosquitto image). */
export const SHIPPED_DYNSEC_PLUGIN = "/usr/lib/mosquitto_dynamic_security.so";

/** The dynamic-security plugin of the Mosquitto installed here (Debian puts it in the multiarch folder). */
export function dynsecPluginPath(): string {
  const found = [
    SHIPPED_DYNSEC_PLUGIN,
    `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/mosquitto_dynamic_security.so`,
  ].find((candidate) => existsSync(candidate));
  if (!found) throw new Error("Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is not installed");
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type TMosquittoOptions = {
  /** Configuration lines added after the listener (auth, ACLs, limits). Default: anonymous. */
  config?: string[];
  /** Files to write into the broker's folder first (password files, ACLs, certificates). */
  files?: Record<string, string | Buffer>;
  /** Extra listeners: each gets a free port; use `{{port:NAME}}` in config to place it. */
  extraPorts?: string[];
  port?: number;
  /**
   * A complete configuration used as it is (after the `{{dir}}` / `{{port:NAME}}` substitutions)
   * instead of the default listener and settings: e.g. the shipped deploy/mosquitto config with
   * its paths and ports rewritten. `url`/`port` are then those of `extraPorts[0]`.
   */
  rawConfig?: string;
  /**
   * Start Mosquitto through a wrapper (e.g. deploy/mosquitto/run.sh) instead of directly; it gets
   * the config path as MOSQUITTO_CONFIG. Signals go to the wrapper's whole process group.
   */
  wrapper?: { command: string; args?: string[]; env?: Record<string, string> };
};

export type TMosquitto = {
  url: string;
  port: number;
  ports: Record<string, number>;
  dir: string;
  /** The broker's process id while it runs (the wrapper's with `wrapper`), e.g. to read its CPU time. */
  readonly pid: number | undefined;
  /** Stops the broker (SIGTERM, then SIGKILL). Persistent state is kept for restart(). */
  stop(): Promise<void>;
  /** Kills the broker at once, as a crash would. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Removes the broker's folder (after stop). */
  cleanup(): Promise<void>;
  /** SIGHUP: Mosquitto re-reads password files, ACLs and CRLs. */
  reload(): void;
  log(): string;
};

export async function startMosquitto(options: TMosquittoOptions = {}): Promise<TMosquitto> {
  const binary = mosquittoBinary();
  const dir = await mkdtemp(path.join(tmpdir(), "fd-mosquitto-"));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await writeFile(path.join(dir, name), content, { mode: 0o600 });
  }
  const ports: Record<string, number> = {};
  for (const name of options.extraPorts ?? []) ports[name] = await freePort();
  const firstExtra = options.extraPorts?.[0];
  const port = options.rawConfig !== undefined && firstExtra ? ports[firstExtra]! : (options.port ?? (await freePort()));
  const fill = (line: string) =>
    line.replaceAll("{{dir}}", dir).replace(/\{\{port:([A-Za-z0-9_]+)\}\}/g, (_, name: string) => String(ports[name]));
  const hasListenerConfig = (options.config ?? []).some((line) => /^\s*(allow_anonymous|password_file|plugin)\b/.test(line));
  const conf =
    options.rawConfig !== undefined
      ? fill(options.rawConfig)
      : [
          `listener ${port} 127.0.0.1`,
          ...(hasListenerConfig ? [] : ["allow_anonymous true"]),
          "set_tcp_nodelay true",
          "persistence true",
          `persistence_location ${dir}/`,
          "autosave_interval 1",
          "max_inflight_messages 1000",
          "max_queued_messages 100000",
          "log_dest stdout",
          "log_type error",
          "log_type warning",
          "log_type notice",
          "log_type information",
          ...(options.config ?? []).map(fill),
        ].join("\n");
  await writeFile(path.join(dir, "mosquitto.conf"), `${conf}\n`);

  let child: ChildProcess | null = null;
  let output = "";
  const start = async () => {
    const confPath = path.join(dir, "mosquitto.conf");
    child = options.wrapper
      ? spawn(options.wrapper.command, options.wrapper.args ?? [], {
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
          env: { ...process.env, MOSQUITTO_CONFIG: confPath, MOSQUITTO_BIN: binary, ...options.wrapper.env },
        })
      : spawn(binary, ["-c", confPath], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child!.once("exit", (code) => reject(new Error(`mosquitto exited with ${code}:\n${output}`))),
    );
    await Promise.race([waitForPort(port), exited]);
  };
  const stopWith = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const done = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    const send = (sig: NodeJS.Signals) => {
      if (options.wrapper && running.pid) {
        try {
          // SIGKILL cannot be passed on by the wrapper: kill its whole group.
          process.kill(sig === "SIGKILL" ? -running.pid : running.pid, sig);
        } catch {
          /* already gone */
        }
      } else running.kill(sig);
    };
    send(signal);
    const timer = setTimeout(() => send("SIGKILL"), 5000);
    await done;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    ports,
    dir,
    get pid() {
      return child?.pid;
    },
    start,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
    reload: () => {
      child?.kill("SIGHUP");
    },
    log: () => output,
  };
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
