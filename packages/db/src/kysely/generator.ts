/**
 * A Prisma generator (`generator kysely` in prisma/schema.prisma): `prisma generate` hands it
 * the schema's data model, and it writes the Kysely `DB` types to the generator's output.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
// A CommonJS package: its named exports are reachable through the default import only.
import generatorHelper from "@prisma/generator-helper";
import { renderKyselyTypes } from "./render-types";

generatorHelper.generatorHandler({
  onManifest: () => ({ prettyName: "Kysely types", defaultOutput: "./database.ts", requiresGenerators: [] }),
  onGenerate: async (options) => {
    const output = options.generator.output?.value;
    if (!output) throw new Error("generator kysely: set `output` to the file to write");
    await mkdir(path.dirname(output), { recursive: true });
    await writeFile(output, renderKyselyTypes(options.dmmf.datamodel));
  },
});
