/**
 * Server response times of the dashboard's two heaviest pages, measured over HTTP against the
 * real built app (`next build` + `next start`) with a signed-in cookie:
 *   - the Files page of a session with 10,000 files (and the JSON list it polls), and
 *   - the Sessions list of a project with 5,000 sessions (counts of files and bytes each), and
 *   - the Overview of a big fleet: 10,000 devices, 100,000 sessions and 1,000,000 files over 90
 *     days, with presence, refused-request counts, store uploads and agents' backlogs.
 * Seeds a fresh database (createTestDatabase) with SQL, warms up, then sends sequential
 * requests and prints p50/p95/p99 with the machine it ran on. Not a test: run it with
 *   pnpm --filter @fleetdrop/e2e bench            (BENCH_REQUESTS=200 by default)
 * BENCH_CASES=overview measures only the cases whose name contains that text (the seeding of
 * the big fleet still runs: about a minute).
 */
import { cpus } from "node:os";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { hashPassword } from "@fleetdrop/db/passwords";
import { createTestDatabase } from "@fleetdrop/db/testing";
import { buildApp, startApp } from "../support/app-server";
import { signInOverHttp } from "../support/http-session";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const SESSIONS = 5_000;
const BIG_SESSION_FILES = 10_000;
const FILES_PER_SESSION = 4;
const PASSWORD = "bench-password-123";
const FLEET_DEVICES = 10_000;
const FLEET_SESSIONS_PER_DEVICE = 10;
const FLEET_FILES_PER_SESSION = 10;
const FLEET_DAYS = 90;

/**
 * The big fleet of the overview, generated in SQL: project "fleet" with 10,000 devices (a third
 * online, half offline, the rest never reported), 100,000 sessions spread over 90 days and
 * 1,000,000 uploaded files, hourly refusal counts for a month, store uploads and status reports
 * with backlogs.
 */
async function seedFleet(client: pg.Client, userId: string): Promise<void> {
  const {
    rows: [project],
  } = await client.query<{ id: string }>(`INSERT INTO projects (slug, name) VALUES ('fleet', 'Big fleet') RETURNING id`);
  await client.query(`INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, 'viewer')`, [userId, project!.id]);
  await client.query(
    `INSERT INTO devices (serial, project_id, name, last_seen_at, presence_online, presence_since, presence_via, presence_heard_at,
                          presence_expires_at)
     SELECT 'FLEET-' || lpad(i::text, 5, '0'), $1, 'Robot ' || i, now() - ((i % 72) * interval '1 hour'),
            CASE WHEN i % 3 = 0 THEN true WHEN i % 6 < 3 THEN false END,
            CASE WHEN i % 3 = 0 OR i % 6 < 3 THEN now() - ((i % 500) * interval '1 minute') END,
            CASE WHEN i % 3 = 0 THEN 'device' WHEN i % 6 < 3 THEN 'device' END,
            CASE WHEN i % 3 = 0 OR i % 6 < 3 THEN now() - ((i % 5) * interval '1 minute') END,
            CASE WHEN i % 3 = 0 THEN now() + interval '15 minutes' END
       FROM generate_series(1, ${FLEET_DEVICES}) i`,
    [project!.id],
  );
  await client.query(
    `INSERT INTO sessions (device_id, project_id, name, state, started_at, ended_at)
     SELECT d.id, $1, 'Run ' || n, 'closed', t.at, t.at + interval '20 minutes'
       FROM devices d, generate_series(1, ${FLEET_SESSIONS_PER_DEVICE}) n,
            LATERAL (SELECT now() - (((hashtext(d.serial || n) & 2147483647) % (${FLEET_DAYS} * 86400)) * interval '1 second') AS at) t
      WHERE d.project_id = $1`,
    [project!.id],
  );
  await client.query(
    `INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, size, etag, uploaded_at, expires_at)
     SELECT s.id, 'f' || n || '.bin', 'sessions/x/' || s.id || '/f' || n || '.bin', 'application/octet-stream', 104857600,
            'uploaded', 1000 + ((s.id * 7919 + n * 104729) % 5000000), '"e"', s.started_at + n * interval '1 minute',
            s.started_at + interval '1 hour'
       FROM sessions s, generate_series(1, ${FLEET_FILES_PER_SESSION}) n
      WHERE s.project_id = $1`,
    [project!.id],
  );
  await client.query(
    `INSERT INTO request_refusals (device_id, project_id, hour, code, count)
     SELECT d.id, $1, date_trunc('hour', now()) - (h * interval '1 hour'), c.code, 1 + (h + length(d.serial)) % 5
       FROM (SELECT id, serial FROM devices WHERE project_id = $1 ORDER BY serial LIMIT 200) d,
            generate_series(0, 30 * 24 - 1, 6) h,
            (VALUES ('rate_limited'), ('session_closed'), ('invalid_filename')) c(code)`,
    [project!.id],
  );
  await client.query(
    `INSERT INTO audit_log (project_id, actor_type, actor_label, action, target_type, target_id, details, at)
     SELECT $1, 'device', d.serial, 'store.upload', 'store_object', s.store || ':' || d.serial || '/file' || n,
            jsonb_build_object('store', s.store, 'size', 1000 * n), now() - n * interval '1 hour'
       FROM (SELECT serial FROM devices WHERE project_id = $1 ORDER BY serial LIMIT 2000) d,
            (VALUES ('incoming'), ('status')) s(store), generate_series(1, 5) n`,
    [project!.id],
  );
  await client.query(
    `INSERT INTO audit_log (project_id, actor_type, actor_label, action, target_type, target_id, details, at)
     SELECT $1, 'device', d.serial, 'device.status_report', 'service', d.serial || '/agent',
            jsonb_build_object('service', 'agent', 'report', jsonb_build_object('general_status', 'ok', 'commands', '[]'::jsonb,
              'backlog', jsonb_build_object('files', n * (length(d.serial) % 7), 'bytes', n * 1000000 * (length(d.serial) % 7)))),
            now() - n * interval '1 hour'
       FROM (SELECT serial FROM devices WHERE project_id = $1 ORDER BY serial LIMIT 1000) d, generate_series(1, 3) n`,
    [project!.id],
  );
}

async function seed(databaseUrl: string): Promise<{ bigSessionId: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const hash = await hashPassword(PASSWORD);
    const {
      rows: [user],
    } = await client.query<{ id: string }>(
      `INSERT INTO users (email, name, password_hash) VALUES ('bench@fleetdrop.test', 'Bench', $1) RETURNING id`,
      [hash],
    );
    const {
      rows: [project],
    } = await client.query<{ id: string }>(`INSERT INTO projects (slug, name) VALUES ('bench', 'Bench fleet') RETURNING id`);
    await client.query(`INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, 'viewer')`, [user!.id, project!.id]);
    await client.query(
      `INSERT INTO devices (serial, project_id, name)
       SELECT 'BOT-' || lpad(i::text, 3, '0'), $1, 'Robot ' || i FROM generate_series(1, 50) i`,
      [project!.id],
    );
    // 5,000 sessions over the 50 devices, one every 10 minutes going back in time.
    await client.query(
      `INSERT INTO sessions (device_id, project_id, name, state, started_at, ended_at)
       SELECT d.id, $1, 'Mission ' || i, CASE WHEN i % 10 = 0 THEN 'open'::session_state ELSE 'closed'::session_state END,
              now() - (i * interval '10 minutes'),
              CASE WHEN i % 10 = 0 THEN NULL ELSE now() - (i * interval '10 minutes') + interval '8 minutes' END
         FROM generate_series(1, ${SESSIONS}) i
         JOIN devices d ON d.serial = 'BOT-' || lpad((1 + i % 50)::text, 3, '0')`,
      [project!.id],
    );
    // A few files in every session (so each row of the list has counts and bytes to add up).
    await client.query(
      `INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, size, etag, uploaded_at, expires_at)
       SELECT s.id, 'file_' || n || '.bin', 'sessions/' || d.serial || '/' || s.id || '/file_' || n || '.bin',
              'application/octet-stream', 104857600,
              'uploaded', 1000 * n + s.id, '"etag"', s.started_at, s.started_at + interval '1 hour'
         FROM sessions s JOIN devices d ON d.id = s.device_id, generate_series(1, ${FILES_PER_SESSION}) n`,
    );
    // The big session: 10,000 files, 9,000 camera frames at its root and 1,000 logs in a folder.
    const {
      rows: [big],
    } = await client.query<{ id: number; serial: string }>(
      `SELECT s.id, d.serial FROM sessions s JOIN devices d ON d.id = s.device_id ORDER BY s.started_at DESC LIMIT 1`,
    );
    await client.query(
      `INSERT INTO files (session_id, filename, object_key, content_type, size_limit, state, size, etag, uploaded_at, expires_at)
       SELECT ${big!.id}, f.name, 'sessions/' || $1 || '/' || ${big!.id} || '/' || f.name, f.type, 104857600,
              CASE WHEN i % 100 = 0 THEN 'pending'::file_state ELSE 'uploaded'::file_state END,
              CASE WHEN i % 100 = 0 THEN NULL ELSE 50000 + (i * 7919) % 200000 END, '"etag"',
              CASE WHEN i % 100 = 0 THEN NULL ELSE now() - (i * interval '1 second') END, now() + interval '1 hour'
         FROM generate_series(1, ${BIG_SESSION_FILES}) i,
              LATERAL (SELECT CASE WHEN i <= 9000 THEN 'frame_' || lpad(i::text, 5, '0') || '.jpg'
                                   ELSE 'logs/node_' || i || '.log' END AS name,
                              CASE WHEN i <= 9000 THEN 'image/jpeg' ELSE 'text/plain' END AS type) f`,
      [big!.serial],
    );
    await seedFleet(client, user!.id);
    await client.query("ANALYZE");
    return { bigSessionId: big!.id };
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function measure(
  url: string,
  cookie: string,
): Promise<{ p50: number; p95: number; p99: number; mean: number; max: number; bytes: number }> {
  const once = async () => {
    const start = performance.now();
    const response = await fetch(url, { headers: { Cookie: cookie }, redirect: "manual" });
    const body = await response.arrayBuffer();
    const ms = performance.now() - start;
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return { ms, bytes: body.byteLength };
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const r = await once();
    times.push(r.ms);
    bytes = r.bytes;
  }
  times.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    p50: round(percentile(times, 50)),
    p95: round(percentile(times, 95)),
    p99: round(percentile(times, 99)),
    mean: round(times.reduce((a, b) => a + b, 0) / times.length),
    max: round(times.at(-1)!),
    bytes,
  };
}

async function main() {
  const database = await createTestDatabase("bench");
  const storeDir = await mkdtemp(path.join(tmpdir(), "fleetdrop-bench-store-"));
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  try {
    const seedStart = performance.now();
    const { bigSessionId } = await seed(database.url);
    console.log(
      `seeded ${SESSIONS} sessions, ${SESSIONS * FILES_PER_SESSION + BIG_SESSION_FILES} files, ` +
        `and the big fleet (${FLEET_DEVICES} devices, ` +
        `${FLEET_DEVICES * FLEET_SESSIONS_PER_DEVICE * FLEET_FILES_PER_SESSION} files) ` +
        `in ${Math.round(performance.now() - seedStart)} ms`,
    );
    const env = { databaseUrl: database.url, storeDir };
    await buildApp(env);
    app = await startApp(env);
    const cookie = await signInOverHttp(app.baseUrl, "bench@fleetdrop.test", PASSWORD);
    const base = `${app.baseUrl}/p/bench`;
    const all: [string, string][] = [
      ["Files page, 10,000-file session (HTML)", `${base}/sessions/${bigSessionId}`],
      ["Files page, sorted by size, page 50 (HTML)", `${base}/sessions/${bigSessionId}?sort=size&page=50`],
      ["Files list poll (JSON API)", `${app.baseUrl}/api/p/bench/sessions/${bigSessionId}/files`],
      ["Files search '77' across 10,000 (JSON API)", `${app.baseUrl}/api/p/bench/sessions/${bigSessionId}/files?q=77`],
      ["Sessions list, 5,000 sessions (HTML)", `${base}/sessions`],
      ["Sessions list sorted by bytes (HTML)", `${base}/sessions?sort=bytes`],
      ["Sessions list, device + state filter, page 2 (HTML)", `${base}/sessions?page=2&device=BOT-007&state=closed`],
      ["Sessions list page 100 (HTML)", `${base}/sessions?page=100`],
      ["Overview, 1,000,000 files / 10,000 devices, 24 h (HTML)", `${app.baseUrl}/p/fleet?range=24h`],
      ["Overview, 7 days (HTML)", `${app.baseUrl}/p/fleet?range=7d`],
      ["Overview, 7 days by hour (HTML)", `${app.baseUrl}/p/fleet?range=7d&by=hour`],
      ["Overview, 90 days (HTML)", `${app.baseUrl}/p/fleet?range=90d`],
      ["Overview poll, 30 days (JSON API)", `${app.baseUrl}/api/p/fleet/overview?range=30d`],
      ["Presence poll, 10,000 devices (JSON API)", `${app.baseUrl}/api/p/fleet/presence`],
    ];
    const only = process.env.BENCH_CASES?.toLowerCase();
    const cases = all.filter(([name]) => !only || name.toLowerCase().includes(only));
    const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, requests: REQUESTS, warmup: WARMUP };
    console.log(
      `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; ` +
        `${REQUESTS} sequential requests per case after ${WARMUP} warm-up`,
    );
    console.log("case | p50 ms | p95 ms | p99 ms | mean ms | max ms | bytes");
    const results: Record<string, unknown>[] = [];
    for (const [name, url] of cases) {
      const r = await measure(url, cookie);
      results.push({ name, url: url.replace(app.baseUrl, ""), ...r });
      console.log(`${name} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.mean} | ${r.max} | ${r.bytes}`);
    }
    const out = path.resolve(import.meta.dirname, "../test-results/bench");
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, "pages.json"), JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2));
    const slow = results.filter((r) => (r.p95 as number) > 300);
    if (slow.length) {
      console.log(`OVER BUDGET (p95 > 300 ms): ${slow.map((r) => r.name).join("; ")}`);
      process.exitCode = 1;
    }
  } finally {
    await app?.stop();
    await database.drop();
    await rm(storeDir, { recursive: true, force: true });
  }
}

await main();
