/**
 * `pnpm --filter @fleetdrop/db <command>`:
 *   migrate                 apply pending migrations to DATABASE_URL (creates the database)
 *   check                   exit 1 when DATABASE_URL differs from schema.prisma (prints the SQL)
 *   seed                    seed an admin, a demo project, device and session
 *   migration:create NAME   write prisma/migrations/<timestamp>_NAME/migration.sql with the SQL
 *                           that brings the current migrations to schema.prisma
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createPrismaClient } from "./client";
import { dropDatabase, ensureDatabase, withDatabase } from "./database-url";
import { ZDbEnvSchema } from "./env";
import { migrateDatabase } from "./migrate";
import { generatePassword } from "./passwords";
import { applyMigrations, diffDatabaseToSchema, MIGRATIONS_DIR } from "./schema-engine";
import { seedDemo } from "./seed";

/** DATABASE_URL, checked by the rule every service uses (./env). */
function requireUrl(): string {
  const result = ZDbEnvSchema.safeParse({ DATABASE_URL: process.env.DATABASE_URL || undefined });
  if (!result.success) {
    console.error(
      process.env.DATABASE_URL
        ? result.error.issues.map((issue) => issue.message).join("\n")
        : "DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/fleetdrop)",
    );
    process.exit(2);
  }
  return result.data.DATABASE_URL;
}

async function main(command: string | undefined, args: string[]) {
  switch (command) {
    case "migrate": {
      await migrateDatabase({ databaseUrl: requireUrl(), createDatabase: true, log: (l) => console.log(l) });
      return 0;
    }
    case "check": {
      const diff = await diffDatabaseToSchema(requireUrl());
      if (diff === null) {
        console.log("database matches prisma/schema.prisma");
        return 0;
      }
      console.log(diff);
      return 1;
    }
    case "seed": {
      const prisma = createPrismaClient({ databaseUrl: requireUrl() });
      try {
        const adminPassword = process.env.SEED_ADMIN_PASSWORD ?? generatePassword();
        const devicePassword = process.env.SEED_DEVICE_PASSWORD ?? generatePassword();
        const result = await seedDemo(prisma, {
          adminEmail: process.env.SEED_ADMIN_EMAIL ?? "admin@fleetdrop.local",
          adminPassword,
          devicePassword,
        });
        console.log(
          JSON.stringify(
            { ...result, ...(result.adminCreated ? { adminPassword } : {}), ...(result.deviceCreated ? { devicePassword } : {}) },
            null,
            2,
          ),
        );
      } finally {
        await prisma.$disconnect();
      }
      return 0;
    }
    case "migration:create": {
      const name = args[0];
      if (!name || !/^[a-z0-9_]+$/.test(name)) {
        console.error("usage: migration:create <snake_case_name>");
        return 2;
      }
      const scratch = withDatabase(requireUrl(), `fleetdrop_scratch_${Date.now()}`);
      await ensureDatabase(scratch);
      try {
        await applyMigrations(scratch);
        const sql = await diffDatabaseToSchema(scratch);
        if (sql === null) {
          console.log("schema.prisma matches the migrations: nothing to create");
          return 0;
        }
        const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
        const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, "migration.sql"), sql);
        console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
        return 0;
      } finally {
        await dropDatabase(scratch);
      }
    }
    default:
      console.error("commands: migrate | check | seed | migration:create NAME");
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
