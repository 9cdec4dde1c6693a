/**
 * Docker cannot run on the development machines, so docker-compose.yml is checked by reading
 * it: it must parse, and everything it names must exist — Dockerfile targets, files it mounts,
 * environment variables the services actually read, ports the services listen on, the secrets
 * .env.example documents — and the scale-out must be real (two workers, one shared group).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ZWorkerEnvSchema, parseWorkerEnv } from "../src/env";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZWebEnvSchema } from "../../web/src/env";
import { ZProvisioningEnvSchema } from "@fleetdrop/provisioning/env";
import { SHIPPED_MOSQUITTO_DIR as DEPLOY_DIR } from "@fleetdrop/test-broker/shipped-mosquitto";

const ROOT = path.resolve(DEPLOY_DIR, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

type TService = {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  entrypoint?: string[];
  command?: string[] | string;
  user?: string;
};
type TCompose = { services: Record<string, TService>; volumes: Record<string, unknown> };

const raw = read("docker-compose.yml");
const compose = parse(raw, { merge: true }) as TCompose;
const services = compose.services;
const dotenvExample = Object.fromEntries(
  read(".env.example")
    .split("\n")
    .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, and $$ for a literal $. */
function interpolate(value: string, env: Record<string, string>): string {
  return (
    value
      .replace(/\$\$/g, "\u0000")
      .replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, arg?: string) => {
        const set = env[name];
        if (set) return set;
        if (kind === "?") throw new Error(`${name} is required: ${arg}`);
        return kind === "-" ? (arg ?? "") : "";
      })
      // oxlint-disable-next-line no-control-regex -- NUL is the placeholder for an escaped "$$" while variables are substituted
      .replace(/\u0000/g, "$")
  );
}

/** Names of the keys of the web app's env schema (apps/web is no package others depend on: import its source). */
function webEnvNames(): Set<string> {
  return new Set(Object.keys(ZWebEnvSchema.shape));
}

const dockerfile = read("deploy/docker/Dockerfile");
const dockerTargets = new Set([...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((match) => match[1]!));
const targetHasHealthcheck = (target: string) => {
  const stage = dockerfile.split(/^FROM /m).find((part) => part.split("\n")[0]!.endsWith(` AS ${target}`)) ?? "";
  return /^HEALTHCHECK /m.test(stage);
};

const workers = Object.entries(services).filter(([, service]) => service.build?.target === "worker");

describe("docker-compose.yml", () => {
  it("parses, and every service has an image with a tag or a build of an existing Dockerfile target", () => {
    expect(Object.keys(services).sort()).toEqual([
      "broker-sync",
      "migrate",
      "minio",
      "minio-setup",
      "mosquitto",
      "postgres",
      "web",
      "worker-1",
      "worker-2",
    ]);
    for (const [name, service] of Object.entries(services)) {
      if (service.image) {
        expect(service.image, name).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      } else {
        expect(service.build, name).toBeDefined();
        expect(existsSync(path.join(ROOT, service.build!.context, service.build!.dockerfile)), name).toBe(true);
        expect(dockerTargets, name).toContain(service.build!.target);
      }
    }
  });

  it("interpolates with the variables .env.example documents, and documents every required one", () => {
    const filled = Object.fromEntries(
      Object.entries(dotenvExample).map(([name, value]) => [name, value || `value-of-${name.toLowerCase()}`]),
    );
    expect(() => interpolate(raw, filled)).not.toThrow();
    const referenced = new Set([...raw.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]!));
    for (const name of referenced) expect(Object.keys(dotenvExample), `${name} is used but not in .env.example`).toContain(name);
    expect(() => interpolate(raw, {})).toThrow(/is required/);
    // Secrets have no defaults: a stack must not start with a well-known password.
    for (const secret of [
      "POSTGRES_PASSWORD",
      "MINIO_ROOT_PASSWORD",
      "MQTT_WORKER_1_PASSWORD",
      "MQTT_WORKER_2_PASSWORD",
      "MQTT_WEB_PASSWORD",
      "NEXTAUTH_SECRET",
      "DEVICE_CA_ENCRYPTION_KEY",
      "WEBHOOK_SECRET_KEY",
    ]) {
      expect(raw, secret).not.toMatch(new RegExp(`\\$\\{${secret}:-`));
      expect(dotenvExample[secret], secret).toBe("");
    }
  });

  it("gives each of our services only environment variables its code reads", () => {
    const workerNames = new Set(Object.keys(ZWorkerEnvSchema.shape));
    const webNames = webEnvNames();
    const adminNames = new Set(Object.keys(ZProvisioningEnvSchema.shape));
    const readers: Record<string, Set<string>> = {
      worker: workerNames,
      web: webNames,
      admin: adminNames,
      migrate: new Set(["DATABASE_URL"]),
    };
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) continue;
      const known = readers[service.build.target]!;
      for (const variable of Object.keys(service.environment ?? {})) expect(known, `${name}: ${variable}`).toContain(variable);
    }
    expect(webNames.size).toBeGreaterThan(10);
  });

  it("mounts only files that exist, and declares its named volumes", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(":");
        if (source!.startsWith(".")) expect(existsSync(path.join(ROOT, source!)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source);
      }
    }
  });

  it("depends only on services that exist, and waits for health only where there is a health check", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        expect(target, `${name} -> ${dependency}`).toBeDefined();
        if (condition === "service_healthy") {
          expect(
            Boolean(target!.healthcheck) || (target!.build ? targetHasHealthcheck(target!.build.target) : false),
            `${name} -> ${dependency}`,
          ).toBe(true);
        }
      }
    }
    for (const target of ["worker", "web"]) expect(targetHasHealthcheck(target), target).toBe(true);
  });

  it("runs the shipped Mosquitto config with every path it names mounted, and publishes only the device listeners", () => {
    const broker = services.mosquitto!;
    expect(broker.entrypoint).toEqual(["sh", "/mosquitto/config/run.sh"]);
    const mounts = (broker.volumes ?? []).map((volume) => volume.split(":")[1]!);
    expect(broker.volumes).toContain("./deploy/mosquitto:/mosquitto/config:ro");
    const conf = read("deploy/mosquitto/mosquitto.conf");
    const paths = [...conf.matchAll(/^\s*\w+\s+(\/mosquitto\/\S+)/gm)].map((match) => match[1]!);
    expect(paths.length).toBeGreaterThan(8);
    for (const used of paths) {
      expect(
        mounts.some((mount) => used.startsWith(`${mount}/`)),
        used,
      ).toBe(true);
      if (used.startsWith("/mosquitto/config/"))
        expect(existsSync(path.join(DEPLOY_DIR, used.slice("/mosquitto/config/".length))), used).toBe(true);
    }
    const listeners = [...conf.matchAll(/^listener (\d+)/gm)].map((match) => match[1]);
    expect(listeners).toEqual(["1883", "8883", "8884"]);
    expect(broker.ports).toEqual(["8883:8883", "8884:8884"]);
    // The sync writes what the broker reads: same volumes, and as the broker's uid.
    const sync = services["broker-sync"]!;
    expect(sync.user).toBe("1883:1883");
    expect(sync.volumes).toEqual(expect.arrayContaining(["mosquitto-auth:/mosquitto/auth", "mosquitto-tls:/mosquitto/tls"]));
    expect(sync.environment?.BROKER_AUTH_DIR).toBe("/mosquitto/auth");
    expect(sync.environment?.BROKER_TLS_DIR).toBe("/mosquitto/tls");
  });

  it("publishes each host port once, to a port its service listens on", () => {
    const hostPorts = Object.values(services).flatMap((service) =>
      (service.ports ?? []).map((port) => port.split(":").slice(0, -1).join(":")),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(services.web!.ports).toEqual(["3000:3000"]);
    expect(dockerfile).toMatch(/next\/dist\/bin\/next", "start", "-p", "3000"/);
    expect(services.minio!.ports).toContain("9000:9000");
    expect(services.minio!.environment).toBeDefined();
    for (const [, worker] of workers) expect(worker.ports).toBeUndefined();
  });

  it("stages file_transfer segments in files on one volume that every worker mounts, writable by the worker's user", () => {
    const mounts = workers.map(([, worker]) => {
      const dir = worker.environment?.TRANSFER_STAGING_DIR;
      expect(dir).toBeTruthy();
      const mount = (worker.volumes ?? []).map((volume) => volume.split(":")).find(([, target]) => target === dir);
      expect(mount, `${dir} is mounted`).toBeDefined();
      return mount![0];
    });
    expect(new Set(mounts).size).toBe(1);
    expect(Object.keys(compose.volumes)).toContain(mounts[0]);
    // A new named volume copies the image folder's owner: the folder exists in the image, owned by the worker's user.
    const dockerfile = read("deploy/docker/Dockerfile");
    const workerStage = dockerfile.slice(dockerfile.indexOf("AS worker"), dockerfile.indexOf("FROM", dockerfile.indexOf("AS worker")));
    expect(workerStage).toContain(`chown node:node ${workers[0]![1].environment!.TRANSFER_STAGING_DIR}`);
    expect(workerStage).toMatch(/USER node/);
  });

  /** What compose passes, with every variable of .env.example filled with a value of its own (a key where one is due). */
  const filled = Object.fromEntries(
    Object.entries(dotenvExample).map(([name, value]) => [
      name,
      value || (name.startsWith("WEBHOOK_SECRET_KEY") ? Buffer.alloc(32, 7).toString("base64") : `value-of-${name.toLowerCase()}`),
    ]),
  );
  const envOf = (service: TService) =>
    Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(value, filled)]));

  it("scales out: two or more workers in one shared subscription group, each on its own broker account and client id", () => {
    expect(workers.length).toBeGreaterThanOrEqual(2);
    const groups = new Set(workers.map(([, worker]) => worker.environment?.MQTT_SHARED_GROUP));
    expect([...groups]).toEqual(["ingest"]);
    const parsed = workers.map(([name, worker]) => {
      expect(worker.environment?.MQTT_URL).toBe("mqtt://mosquitto:1883");
      const result = ZWorkerEnvSchema.safeParse(envOf(worker));
      expect(result.success, `${name}: ${result.error?.message}`).toBe(true);
      return parseWorkerEnv(envOf(worker));
    });
    // No two instances share an account, a password (variable) or a client id, and each client id
    // is its account (the broker refuses any other).
    const accounts = parsed.map((env) => env.MQTT_USERNAME);
    expect(new Set(accounts).size).toBe(workers.length);
    expect(new Set(workers.map(([, worker]) => worker.environment?.MQTT_PASSWORD)).size).toBe(workers.length);
    expect(parsed.map((env) => env.MQTT_CLIENT_ID)).toEqual(accounts);
    for (const account of accounts) expect(account).toMatch(/^fleetdrop-ingest:/);
  });

  it("provisions exactly the services' accounts at the broker, each with the password its service uses", () => {
    const sync = ZProvisioningEnvSchema.safeParse(envOf(services["broker-sync"]!));
    expect(sync.success, sync.error?.message).toBe(true);
    const provisioned = new Map(sync.data!.MQTT_SERVICE_ACCOUNTS.map((account) => [account.username, account.password]));
    const users = Object.entries(services).filter(([, service]) => service.environment?.MQTT_URL === "mqtt://mosquitto:1883");
    expect(users.map(([name]) => name).sort()).toEqual([...workers.map(([name]) => name), "web"].sort());
    for (const [name, service] of users) {
      const env = envOf(service);
      expect(provisioned.get(env.MQTT_USERNAME!), `${name}'s account ${env.MQTT_USERNAME}`).toBe(env.MQTT_PASSWORD);
    }
    expect(provisioned.size).toBe(users.length);
    expect(envOf(services.web!).MQTT_USERNAME).toMatch(/^fleetdrop-web:/);
  });

  it("keeps the secrets file out of git and out of the image", () => {
    expect(read(".gitignore")).toMatch(/^\.env$/m);
    expect(read(".dockerignore")).toMatch(/^\.env$/m);
  });
});
