/**
 * Prisma's own schema engine, in its WebAssembly build, driven through the pg driver adapter.
 * It applies `prisma/migrations` exactly as `prisma migrate deploy` does (same SQL, same
 * `_prisma_migrations` bookkeeping, same advisory lock) and diffs a live database against
 * `schema.prisma` — without the native engine binary, which cannot be downloaded everywhere
 * this platform runs.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm";
import pg from "pg";

const here = path.dirname(fileURLToPath(import.meta.url));
const PRISMA_DIR = path.resolve(here, "../prisma");
export const SCHEMA_PATH = path.join(PRISMA_DIR, "schema.prisma");
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, "migrations");

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

/**
 * The adapter cannot decode PostgreSQL's internal one-byte `"char"` type, which the engine's
 * introspection queries select from the catalogs; reading it as text is what it is.
 */
class CatalogFriendlyPool extends pg.Pool {
  /** A migration statement cut inside a dollar-quoted body, waiting for its remaining pieces. */
  private unterminated: string | null = null;

  override query(...args: unknown[]): never {
    // The adapter runs a migration script by splitting it at every `;`, which cuts a function body
    // (`$$ … ; … $$`) apart: the pieces are put back together here and sent as one statement.
    if (typeof args[0] === "string" && args.length === 1) {
      const piece = this.unterminated === null ? args[0] : `${this.unterminated};\n${args[0]}`;
      if ((piece.match(/\$\$/g)?.length ?? 0) % 2 === 1) {
        this.unterminated = piece;
        return Promise.resolve({ rows: [], fields: [], rowCount: 0, command: "", oid: 0 }) as never;
      }
      this.unterminated = null;
      args = [piece];
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result && typeof (result as Promise<unknown>).then === "function") {
      return (result as Promise<pg.QueryResult>).then((value) => {
        for (const field of value?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
        return value;
      }) as never;
    }
    return result as never;
  }
}

/**
 * The adapter runs a migration script by splitting it at every `;`, which cuts a function body
 * (`$$ … ; … $$`) apart. Prisma's native engine sends the script whole; so does this: PostgreSQL's
 * simple query protocol runs several statements in one message, in one implicit transaction.
 */
class WholeScriptPrismaPg extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string) => {
      try {
        await pool.query(script);
      } catch (error) {
        // The adapter's own conversion into the error the engine reports.
        (adapter as unknown as { onError(error: unknown): never }).onError(error);
      }
    };
    return adapter;
  }
}

type TEngineRuntime = { SchemaEngine: typeof SchemaEngine };

/** The WebAssembly global (typed here: the project's `lib` has no DOM types). */
type TWasmExports = Record<string, unknown>;
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: Record<string, unknown>) => { exports: TWasmExports };
    };
  }
).WebAssembly;
let runtimePromise: Promise<TEngineRuntime> | undefined;

async function loadRuntime(): Promise<TEngineRuntime> {
  runtimePromise ??= (async () => {
    const runtime = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as TEngineRuntime & {
      __wbg_set_wasm(exports: TWasmExports): void;
    };
    const require = createRequire(import.meta.url);
    const wasmPath = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
    const wasmModule = new wasm.Module(await readFile(wasmPath));
    const instance = new wasm.Instance(wasmModule, { "./schema_engine_bg.js": runtime });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return runtime;
  })();
  return runtimePromise;
}

export type TSchemaEngineHandle = {
  engine: SchemaEngine;
  schema: string;
  close(): Promise<void>;
};

async function openSchemaEngine(databaseUrl: string, schemaPath = SCHEMA_PATH): Promise<TSchemaEngineHandle> {
  const runtime = await loadRuntime();
  const schema = await readFile(schemaPath, "utf8");
  const pool = new CatalogFriendlyPool({ connectionString: databaseUrl, max: 2 });
  const factory = bindMigrationAwareSqlAdapterFactory(new WholeScriptPrismaPg(pool));
  const engine = await runtime.SchemaEngine.new({ datamodels: [[path.basename(schemaPath), schema]] }, () => {}, factory);
  return {
    engine,
    schema,
    async close() {
      engine.free();
      await pool.end().catch(() => {});
    },
  };
}

export async function loadMigrationList(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  const entries = (await readdir(dir)).sort();
  const directories: MigrationList["migrationDirectories"] = [];
  for (const entry of entries) {
    if (!(await stat(path.join(dir, entry))).isDirectory()) continue;
    const file = path.join(dir, entry, "migration.sql");
    const content = await readFile(file, "utf8").then(
      (value) => ({ tag: "ok" as const, value }),
      (error: Error) => ({ tag: "error" as const, value: error.message }),
    );
    directories.push({ path: entry, migrationFile: { path: "migration.sql", content } });
  }
  const lockPath = path.join(dir, "migration_lock.toml");
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: await readFile(lockPath, "utf8").catch(() => null) },
    shadowDbInitScript: "",
    migrationDirectories: directories,
  };
}

/**
 * `prisma migrate deploy`: applies the migrations the database lacks; returns their names.
 * `dir`: another migrations folder (upgrade tests apply the project's first migrations from a
 * copy, then the rest).
 */
export async function applyMigrations(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const handle = await openSchemaEngine(databaseUrl);
  try {
    const migrationsList = await loadMigrationList(dir);
    const result = await handle.engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return result.appliedMigrationNames;
  } finally {
    await handle.close();
  }
}

/**
 * The SQL that would bring the live database to `schema.prisma`; empty (null) when the
 * database matches the schema exactly.
 */
export async function diffDatabaseToSchema(databaseUrl: string, schemaPath = SCHEMA_PATH): Promise<string | null> {
  const handle = await openSchemaEngine(databaseUrl, schemaPath);
  try {
    const files = [{ path: path.basename(schemaPath), content: handle.schema }];
    const result = (await handle.engine.diff({
      from: { tag: "schemaDatasource", files, configDir: PRISMA_DIR },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    })) as { exitCode: number; stdout?: string | null };
    return result.exitCode === 0 ? null : (result.stdout ?? "");
  } finally {
    await handle.close();
  }
}
