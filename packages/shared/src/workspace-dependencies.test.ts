/**
 * Every workspace package declares what its files import: each bare specifier in a package's
 * source (runtime and type imports, `import()`, `require()`, `export … from`) names the package
 * itself, a Node built-in, or a package in its dependencies, devDependencies or
 * peerDependencies (or that package's `@types/…`). An undeclared import works only while pnpm
 * happens to hoist it, and hides which package depends on which.
 * Packages must not import an app either: apps compose packages, never the reverse.
 * It lives here, beside repository-docs.test.ts, because this package's `test` script is part of
 * the root `npm test`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** This file: its examples of imports are text, not imports. */
const SELF = path.relative(ROOT, fileURLToPath(import.meta.url));

const SOURCE = /\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
const BUILTINS = new Set(builtinModules);

type TManifest = {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

type TWorkspacePackage = { dir: string; manifest: TManifest };

/** The folders pnpm-workspace.yaml lists under `packages:` (`apps/*`, `e2e`, …) that hold a package.json. */
function workspacePackages(): TWorkspacePackage[] {
  const lines = readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8").split("\n");
  const start = lines.findIndex((line) => line.startsWith("packages:"));
  const patterns: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const item = /^\s+-\s+["']?([^"'\s#]+)["']?/.exec(line);
    if (item) patterns.push(item[1]!);
    else if (/^\S/.test(line)) break;
  }
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [pattern];
    const parent = pattern.slice(0, -2);
    if (!existsSync(path.join(ROOT, parent))) return [];
    return readdirSync(path.join(ROOT, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`);
  });
  return dirs
    .filter((dir) => existsSync(path.join(ROOT, dir, "package.json")))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(path.join(ROOT, dir, "package.json"), "utf8")) as TManifest }));
}

/** Tracked and new (not ignored) source files of a package, relative to the root. */
function sourceFiles(dir: string): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", dir], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split("\0").filter((file) => SOURCE.test(file) && !file.includes("/node_modules/") && existsSync(path.join(ROOT, file)));
}

/** Module specifiers a file imports, with their 1-based line numbers. */
function importedSpecifiers(text: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  const patterns = [
    // `import … from "x"` and `export … from "x"`, possibly over several lines.
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    // `import "x"` (side effects only).
    /^\s*import\s*["']([^"']+)["']/gm,
    // `import("x")`, `require("x")`, `vi.importActual("x")` is not one: it names a module already imported.
    /(?<![\w.$])(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      found.push({ specifier: match[1]!, line: text.slice(0, match.index).split("\n").length });
    }
  }
  return found;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null when it is not bare. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null;
  // `@/…` is the web app's own source folder (a tsconfig path alias), not a package.
  if (specifier.startsWith("@/")) return null;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  if (BUILTINS.has(name)) return null;
  return name;
}

function typesPackageOf(name: string): string {
  return name.startsWith("@") ? `@types/${name.slice(1).replace("/", "__")}` : `@types/${name}`;
}

/** Strips comments, so that an example in a doc comment is not read as an import. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " ")).replace(/(^|[^:"'`\\])\/\/[^\n]*/g, "$1");
}

describe("workspace packages", () => {
  const packages = workspacePackages();
  const appNames = new Set(packages.filter((p) => p.dir.startsWith("apps/")).map((p) => p.manifest.name));

  it("finds the workspace's packages", () => {
    expect(packages.map((p) => p.dir)).toEqual(
      expect.arrayContaining(["apps/web", "apps/ingest-worker", "packages/shared", "packages/provisioning", "packages/storage"]),
    );
  });

  it.each(packages.map((p) => [p.dir, p] as const))("%s declares every package it imports", (_dir, { dir, manifest }) => {
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const undeclared: string[] = [];
    for (const file of sourceFiles(dir)) {
      if (file === SELF) continue;
      const text = withoutComments(readFileSync(path.join(ROOT, file), "utf8"));
      for (const { specifier, line } of importedSpecifiers(text)) {
        const name = packageOf(specifier);
        if (name === null || declared.has(name) || declared.has(typesPackageOf(name))) continue;
        undeclared.push(`${file}:${line} imports ${specifier}, but ${name} is not in ${dir}/package.json`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  // e2e and bench drive the apps themselves; packages/* and tooling/* are what apps are made of.
  const libraries = packages.filter((p) => p.dir.startsWith("packages/") || p.dir.startsWith("tooling/"));
  it.each(libraries.map((p) => [p.dir, p] as const))("%s depends on no app", (_dir, { manifest }) => {
    const all = { ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies };
    expect(Object.keys(all).filter((name) => appNames.has(name))).toEqual([]);
  });
});

describe("importedSpecifiers", () => {
  it("reads static, side-effect, type, re-export, dynamic and require imports", () => {
    const text = [
      'import { a } from "zod";',
      'import type { B } from "@scope/pkg/sub";',
      'import "reflect-metadata";',
      'export { c } from "./local";',
      'const d = await import("mqtt");',
      'const e = require("pg");',
      "import {\n  f,\n} from 'yaml';",
    ].join("\n");
    expect(
      importedSpecifiers(text)
        .map((i) => i.specifier)
        .sort(),
    ).toEqual(["./local", "@scope/pkg/sub", "mqtt", "pg", "reflect-metadata", "yaml", "zod"]);
  });

  it("names the package of a bare specifier and skips relative paths, aliases and built-ins", () => {
    expect(packageOf("@fleetdrop/shared/protocol/upload")).toBe("@fleetdrop/shared");
    expect(packageOf("vitest/config")).toBe("vitest");
    expect(packageOf("./x")).toBeNull();
    expect(packageOf("@/lib/forms")).toBeNull();
    expect(packageOf("node:fs")).toBeNull();
    expect(packageOf("fs/promises")).toBeNull();
  });
});
