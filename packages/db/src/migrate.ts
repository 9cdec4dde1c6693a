/**
 * Brings a database to the current schema: creates it if needed, then applies the pending
 * migrations of `prisma/migrations` with Prisma's own engine (see schema-engine.ts).
 */
import { ensureDatabase } from "./database-url";
import { applyMigrations } from "./schema-engine";

export type TMigrateOptions = {
  databaseUrl: string;
  /** Create the database when it is missing (embedded default, tests). */
  createDatabase?: boolean;
  log?: (line: string) => void;
  /** Another migrations folder than the project's (upgrade tests: a copy of its first migrations). */
  migrationsDir?: string;
};

export async function migrateDatabase({ databaseUrl, createDatabase = false, log, migrationsDir }: TMigrateOptions) {
  if (createDatabase && (await ensureDatabase(databaseUrl))) log?.("created the database");
  const applied = await applyMigrations(databaseUrl, migrationsDir);
  for (const name of applied) log?.(`applied migration ${name}`);
  if (applied.length === 0) log?.("database schema is up to date");
  return applied;
}

export { diffDatabaseToSchema, MIGRATIONS_DIR } from "./schema-engine";
export { dropDatabase, ensureDatabase, withDatabase } from "./database-url";
