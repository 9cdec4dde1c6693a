import { defineConfig } from "prisma/config";

// The CLI only needs a URL for migrate/studio; `prisma generate` works without one.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
    seed: "tsx src/cli.ts seed",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/fleetdrop",
  },
});
