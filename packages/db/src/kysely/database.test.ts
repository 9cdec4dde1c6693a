/**
 * database.ts is generated and committed (the worker typechecks against it without running
 * `prisma generate` first): this fails when schema.prisma changed and the file was not
 * regenerated, by running the same generator into a temporary file and comparing.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { renderKyselyTypes } from "./render-types";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const COMMITTED = path.join(PACKAGE_DIR, "src/kysely/database.ts");
let tmp: string | undefined;

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

it("matches what `prisma generate` writes from schema.prisma", { timeout: 120_000 }, async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "fleetdrop-kysely-"));
  const schema = await readFile(path.join(PACKAGE_DIR, "prisma/schema.prisma"), "utf8");
  const output = path.join(tmp, "database.ts");
  const redirected = schema.replace('output   = "../src/kysely/database.ts"', `output   = ${JSON.stringify(output)}`);
  expect(redirected, "the kysely generator block of schema.prisma").not.toBe(schema);
  await writeFile(path.join(tmp, "schema.prisma"), redirected);
  // The package's own binaries (prisma, and tsx for the generator), whatever started the test.
  const bin = path.join(PACKAGE_DIR, "node_modules/.bin");
  execFileSync(path.join(bin, "prisma"), ["generate", "--schema", path.join(tmp, "schema.prisma"), "--generator", "kysely"], {
    cwd: PACKAGE_DIR,
    env: {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/false",
    },
    stdio: "pipe",
  });
  const generated = await readFile(output, "utf8");
  expect(
    generated === (await readFile(COMMITTED, "utf8")),
    "src/kysely/database.ts is stale: run `pnpm --filter @fleetdrop/db generate`",
  ).toBe(true);
});

it("types columns as node-postgres returns them, by their SQL names", () => {
  const text = renderKyselyTypes({
    enums: [{ name: "Mood", dbName: "mood", values: [{ name: "calm" }, { name: "busy", dbName: "BUSY" }] }],
    models: [
      {
        name: "Thing",
        dbName: "things",
        fields: [
          { name: "id", kind: "scalar", type: "BigInt", isRequired: true, isList: false, hasDefaultValue: true },
          { name: "seenAt", dbName: "seen_at", kind: "scalar", type: "DateTime", isRequired: false, isList: false, hasDefaultValue: false },
          { name: "mood", kind: "enum", type: "Mood", isRequired: true, isList: false, hasDefaultValue: false },
          { name: "tags", kind: "scalar", type: "String", isRequired: true, isList: true, hasDefaultValue: false },
          { name: "owner", kind: "object", type: "User", isRequired: true, isList: false, hasDefaultValue: false },
        ],
      },
    ],
  });
  expect(text).toContain('export type Mood = "calm" | "BUSY";');
  expect(text).toContain(
    "export interface TThingTable {\n  id: Generated<Int8>;\n  seen_at: Timestamp | null;\n  mood: Mood;\n  tags: string[];\n}",
  );
  expect(text).toContain("export interface DB {\n  things: TThingTable;\n}");
  expect(() =>
    renderKyselyTypes({
      enums: [],
      models: [
        {
          name: "X",
          dbName: null,
          fields: [{ name: "g", kind: "scalar", type: "Unsupported", isRequired: true, isList: false, hasDefaultValue: false }],
        },
      ],
    }),
  ).toThrow(/no column type/);
});
