/**
 * The repository's documentation holds together for someone who has only a clone:
 * - nothing names a path outside the repository (a clone lacks it);
 * - every relative markdown link, and every `docs/*.md` a file mentions, leads to a file of the
 *   repository, and to a heading or anchor that exists when it names one;
 * - docs/protocol.md, the device contract, documents every error code with its status and agrees
 *   with the operation table (operations.ts): each operation's topic, payload, section, answer
 *   topic, rate-limit class, and the codes it may answer.
 * It lives here because this package owns the protocol whose contract is docs/protocol.md, and
 * its `test` script is part of the root `npm test`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, ERROR_CODES } from "./errors";
import { JSON_OPERATION_NAMES, OPERATION_NAMES, OPERATIONS, type TOperationName, type TOperationSpec } from "./operations";
import { ZErrorResponseSchema } from "./protocol/common";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Folders that are never part of the repository's text (installed, built or generated). */
const SKIPPED_DIRS = new Set([".git", "node_modules", ".next", "dist", ".turbo", ".fleetdrop", "test-results", "playwright-report"]);

/** Tracked and new (not ignored) files, relative to the root; a walk when git is unavailable. */
function repositoryFiles(): string[] {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    return out.split("\0").filter((file) => file !== "" && existsSync(path.join(ROOT, file)));
  } catch {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) walk(relative);
        } else if (entry.isFile()) files.push(relative);
      }
    };
    walk("");
    return files;
  }
}

/** Text files only: no NUL in the first 8 KiB, at most 4 MiB. */
function readText(file: string): string | null {
  const full = path.join(ROOT, file);
  if (statSync(full).size > 4 * 1024 * 1024) return null;
  const bytes = readFileSync(full);
  if (bytes.subarray(0, 8192).includes(0)) return null;
  return bytes.toString("utf8");
}

const FILES = repositoryFiles();
const TEXTS = new Map(
  FILES.flatMap((file) => {
    const text = readText(file);
    return text === null ? [] : [[file, text] as const];
  }),
);

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/**
 * Names of places outside the repository. Built from parts so that this file does not name them
 * itself. pnpm-lock.yaml is exempt from the relative form: its `link:` paths are relative to each
 * workspace package (from packages/device, a link one level up to `shared` is packages/shared).
 */
const OUTSIDE = [
  { pattern: new RegExp(["shared", "spec"].join("/")), what: "the brief's spec folder", exempt: new Set<string>() },
  { pattern: new RegExp(`\\.\\./${"shared"}(?![\\w-])`), what: "a sibling folder of the repository", exempt: new Set(["pnpm-lock.yaml"]) },
  { pattern: new RegExp(["", "work", "shared"].join("/")), what: "a path on a development machine", exempt: new Set<string>() },
  {
    pattern: new RegExp(`${"shared"}/(STYLE|ENVIRONMENT)\\.md`),
    what: "a document that is not in the repository",
    exempt: new Set<string>(),
  },
];

describe("nothing in the repository names a place outside it", () => {
  it("finds the repository's files", () => {
    expect(FILES).toContain("README.md");
    expect(FILES).toContain("docs/protocol.md");
  });

  it("no file names the spec folder, a sibling folder or a machine path", () => {
    const found: string[] = [];
    for (const [file, text] of TEXTS) {
      for (const { pattern, what, exempt } of OUTSIDE) {
        if (exempt.has(file)) continue;
        const global = new RegExp(pattern.source, "g");
        for (const match of text.matchAll(global)) found.push(`${file}:${lineOf(text, match.index)}: ${what}: ${JSON.stringify(match[0])}`);
      }
    }
    expect(found).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Markdown links and anchors

/** Blanks out fenced code blocks and inline code (keeping line breaks), where links are not links. */
function withoutCode(markdown: string): string {
  const blank = (text: string) => text.replace(/[^\n]/g, " ");
  return markdown.replace(/^(\s*)(```|~~~)[^\n]*\n[\s\S]*?^\s*\2[^\n]*$/gm, blank).replace(/`[^`\n]*`/g, blank);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

const anchorCache = new Map<string, Set<string>>();

/** Every anchor of a markdown file: its headings (duplicates numbered as GitHub does) and `<a id|name>`. */
function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached) return cached;
  const text = TEXTS.get(file) ?? readFileSync(path.join(ROOT, file), "utf8");
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fence: string | null = null;
  for (const line of text.split("\n")) {
    const fenceMatch = /^\s*(```|~~~)/.exec(line);
    if (fenceMatch) {
      if (fence === null) fence = fenceMatch[1]!;
      else if (fenceMatch[1] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1]!);
      const seen = counts.get(slug) ?? 0;
      counts.set(slug, seen + 1);
      anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
    }
    for (const explicit of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(explicit[1]!);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

type TLinkProblem = string | null;

/** Checks one link target written in `from` (a repository file). */
function linkProblem(from: string, target: string): TLinkProblem {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:, …
  const hashAt = target.indexOf("#");
  const rawPath = (hashAt === -1 ? target : target.slice(0, hashAt)).replace(/\?.*$/, "");
  const anchor = hashAt === -1 ? null : target.slice(hashAt + 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return `${target}: not a valid link`;
  }
  const resolved =
    decoded === ""
      ? path.join(ROOT, from)
      : decoded.startsWith("/")
        ? path.join(ROOT, decoded)
        : path.resolve(path.dirname(path.join(ROOT, from)), decoded);
  const relative = path.relative(ROOT, resolved);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return `${target}: leads outside the repository`;
  if (!existsSync(resolved)) return `${target}: no such file in the repository (${relative})`;
  if (anchor && relative.endsWith(".md") && !anchorsOf(relative.split(path.sep).join("/")).has(anchor.toLowerCase())) {
    return `${target}: ${relative} has no heading or anchor "${anchor}"`;
  }
  return null;
}

const MARKDOWN = [...TEXTS.keys()].filter((file) => file.endsWith(".md"));

describe("links lead to files of the repository", () => {
  it("every relative markdown link resolves inside the repository, to an existing file and anchor", () => {
    const problems: string[] = [];
    for (const file of MARKDOWN) {
      const text = withoutCode(TEXTS.get(file)!);
      const targets = [
        ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({ target: match[1]!, index: match.index })),
        ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => ({ target: match[1]!, index: match.index })),
        ...[...text.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((match) => ({ target: match[1]!, index: match.index })),
      ];
      for (const { target, index } of targets) {
        const problem = linkProblem(file, target);
        if (problem) problems.push(`${file}:${lineOf(text, index)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every docs/*.md a file mentions exists, with the anchor it names", () => {
    const problems: string[] = [];
    for (const [file, text] of TEXTS) {
      for (const match of text.matchAll(/(?<![\w./-])docs\/([\w.-]+\.md)(#[\w-]+)?/g)) {
        const problem = linkProblem("README.md", `docs/${match[1]}${match[2] ?? ""}`);
        if (problem) problems.push(`${file}:${lineOf(text, match.index)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("reads anchors the way GitHub makes them", () => {
    expect(headingSlug("`file_upload/request`")).toBe("file_uploadrequest");
    expect(headingSlug("MQTT 3.1.1 and MQTT 5")).toBe("mqtt-311-and-mqtt-5");
    expect(headingSlug("Transfer init")).toBe("transfer-init");
    expect(linkProblem("docs/devices.md", "protocol.md#no-such-heading")).toMatch(/no heading or anchor/);
    expect(linkProblem("docs/devices.md", "../../elsewhere.md")).toMatch(/outside the repository/);
    expect(linkProblem("README.md", ["docs", "no-such-page.md"].join("/"))).toMatch(/no such file/);
  });
});

// ---------------------------------------------------------------------------------------------
// The device contract

/** The text of the section whose heading's anchor is `slug`, up to the next heading of its level or above. */
function sectionOf(markdown: string, slug: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => {
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    return heading !== null && headingSlug(heading[2]!) === slug;
  });
  if (start < 0) return "";
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((line, index) => index > start && /^#+\s/.test(line) && /^#+/.exec(line)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

describe("walkthroughs for npm start", () => {
  // `npm start` moves its broker off 1883 when that port is taken and prints the one it uses, so
  // a walkthrough for it must say to use the printed port rather than promise 1883.
  it("docs/devices.md sends devices of npm start to the port it printed, not a fixed 1883", () => {
    const text = readText("docs/devices.md") ?? "";
    const paragraphs = text.split(/\n\s*\n/).filter((paragraph) => paragraph.includes("npm start") && /\b1883\b/.test(paragraph));
    for (const paragraph of paragraphs) expect(paragraph).toMatch(/port (that `npm start`|it) printed/);
    expect(text).toMatch(/BROKER_PORT/);
    expect(text).not.toMatch(/BROKER_PORT", "1883"/);
  });
});

describe("docs/protocol.md documents the protocol as implemented", () => {
  const protocol = TEXTS.get("docs/protocol.md") ?? "";
  const anchors = anchorsOf("docs/protocol.md");

  it("lists every error code with its status", () => {
    const rows = new Map(
      [...protocol.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z0-9_]+)`\s*\|/gm)].map((match) => [match[2]!, Number(match[1])]),
    );
    const wrong = ERROR_CODES.filter((code) => rows.get(code) !== ERROR_CATALOG[code].status).map(
      (code) =>
        `${code}: ${rows.has(code) ? `documented as ${rows.get(code)}` : "not in the table"}, the code says ${ERROR_CATALOG[code].status}`,
    );
    expect(wrong).toEqual([]);
  });

  it("has a section for every operation, and a row of the topic table linking to it with its payload", () => {
    const payloadText = { json: "JSON", "empty-or-json": "empty (or JSON)", bytes: "raw bytes" } as const;
    const rows = new Map(
      [...protocol.matchAll(/^\|\s*`([^`]+)`\s*\|\s*device → platform\s*\|\s*([^|]+?)\s*\|\s*([^|]*?)\s*\|/gm)].map((match) => [
        match[1]!,
        { payload: match[2]!, links: match[3]! },
      ]),
    );
    const problems: string[] = [];
    for (const name of OPERATION_NAMES) {
      const { topic, payload, doc, response } = OPERATIONS[name];
      if (!anchors.has(doc)) problems.push(`${name}: no section #${doc}`);
      const row = rows.get(topic);
      if (!row) problems.push(`${name}: the topic table has no row for \`${topic}\``);
      else {
        if (row.payload !== payloadText[payload])
          problems.push(`${name}: \`${topic}\` is documented as ${row.payload}, the table says ${payloadText[payload]}`);
        if (!row.links.includes(`(#${doc})`)) problems.push(`${name}: the row of \`${topic}\` does not link to #${doc}`);
      }
      if (!new RegExp(`^\\|\\s*\`${response}\`\\s*\\|\\s*platform → device`, "m").test(protocol))
        problems.push(`${name}: the topic table has no row for its answer topic \`${response}\``);
    }
    // What the platform sends a device, and what a device tells the dashboard, are no operations.
    for (const slug of ["commands", "presence"]) if (!anchors.has(slug)) problems.push(`no section #${slug}`);
    expect(problems).toEqual([]);
  });

  it("names each fixed-topic operation in the row of its rate-limit class", () => {
    const rows = new Map(
      [...protocol.matchAll(/^\|\s*`([a-z]+)`\s*\|([^|]*)\|\s*\d+\s*\|\s*[\d.]+\s*\|/gm)].map((match) => [match[1]!, match[2]!]),
    );
    const problems: string[] = [];
    for (const name of OPERATION_NAMES) {
      const { rateLimit, topic } = OPERATIONS[name];
      const row = rows.get(rateLimit);
      if (row === undefined) problems.push(`${name}: no row for the rate-limit class ${rateLimit}`);
      else if ((JSON_OPERATION_NAMES as readonly string[]).includes(name) && !row.includes(`\`${topic}\``))
        problems.push(`${name}: the ${rateLimit} row does not name \`${topic}\``);
    }
    expect(problems).toEqual([]);
  });

  it("describes, in each operation's section, the fields its error answers carry beyond the envelope", () => {
    const envelope = new Set(Object.keys(ZErrorResponseSchema.shape));
    const problems: string[] = [];
    for (const name of OPERATION_NAMES) {
      const spec: TOperationSpec = OPERATIONS[name];
      const section = sectionOf(protocol, spec.doc);
      for (const [code, schema] of Object.entries(spec.errorAnswers ?? {})) {
        const shape = (schema as { shape?: Record<string, unknown> }).shape ?? {};
        for (const field of Object.keys(shape).filter((key) => !envelope.has(key))) {
          if (!section.includes(`\`${code}\``) || !section.includes(`\`${field}\``))
            problems.push(`${name}: the section #${spec.doc} does not say that ${code} answers carry \`${field}\``);
          const inner = (shape[field] as { shape?: Record<string, unknown> }).shape;
          for (const sub of Object.keys(inner ?? {}))
            if (![`\`${sub}\``, `\`${field}.${sub}\``].some((name) => section.includes(name)))
              problems.push(`${name}: the section #${spec.doc} does not describe \`${field}.${sub}\``);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("lists, for every error code, exactly the operations that may answer it", () => {
    // How the error table's last column names operations.
    const LABELS: Record<string, readonly TOperationName[]> = {
      all: OPERATION_NAMES,
      "all JSON": OPERATION_NAMES.filter((name) => OPERATIONS[name].payload !== "bytes"),
      "session open": ["sessionOpen"],
      "session close": ["sessionClose"],
      "upload request": ["uploadRequest"],
      "store upload": ["storeUpload"],
      "upload complete": ["uploadComplete"],
      download: ["downloadRequest"],
      multipart: ["multipartCreate", "multipartParts", "multipartComplete", "multipartAbort"],
      "multipart create": ["multipartCreate"],
      "multipart parts": ["multipartParts"],
      "multipart complete": ["multipartComplete"],
      "multipart abort": ["multipartAbort"],
      transfer: ["transferInit", "transferSegment", "transferFin", "transferStatus", "transferAbort"],
      "transfer init": ["transferInit"],
      "transfer segment": ["transferSegment"],
      "transfer fin": ["transferFin"],
      "transfer status": ["transferStatus"],
      "transfer abort": ["transferAbort"],
      chunks: ["chunk"],
      "agent status": ["agentStatus"],
    };
    const problems: string[] = [];
    /** "transfer segment, fin, status": a bare word continues the group of the label before it. */
    const operationsOf = (code: string, cell: string): Set<TOperationName> => {
      const found = new Set<TOperationName>();
      let group = "";
      for (const raw of cell.split(",")) {
        const item = raw.replace(/\([^)]*\)/g, "").trim();
        const label = LABELS[item] ? item : LABELS[`${group} ${item}`] ? `${group} ${item}` : null;
        if (!label) {
          problems.push(`${code}: the doc names "${item}", which is no operation (known: ${Object.keys(LABELS).join(", ")})`);
          continue;
        }
        if (label.includes(" ") && !label.startsWith("all")) group = label.split(" ")[0]!;
        for (const name of LABELS[label]!) found.add(name);
      }
      return found;
    };
    const documented = new Map(
      [...protocol.matchAll(/^\|\s*\d{3}\s*\|\s*`([a-z0-9_]+)`\s*\|[^|]*\|\s*([^|]+?)\s*\|\s*$/gm)].map((match) => [
        match[1]!,
        operationsOf(match[1]!, match[2]!),
      ]),
    );
    for (const code of ERROR_CODES) {
      const inDoc = documented.get(code) ?? new Set<TOperationName>();
      for (const name of OPERATION_NAMES) {
        const inTable = (OPERATIONS[name].errors as readonly string[]).includes(code);
        if (inTable && !inDoc.has(name)) problems.push(`${code}: ${name} may answer it, the doc does not say so`);
        if (!inTable && inDoc.has(name)) problems.push(`${code}: the doc says ${name} may answer it, the operation table does not`);
      }
    }
    expect(problems).toEqual([]);
  });
});
