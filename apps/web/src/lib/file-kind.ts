import type { TFileKind } from "./list-queries";

const TEXT_EXTENSIONS = new Set([
  "txt",
  "log",
  "csv",
  "tsv",
  "md",
  "yaml",
  "yml",
  "ini",
  "cfg",
  "conf",
  "toml",
  "xml",
  "json",
  "jsonl",
  "ndjson",
  "sh",
  "py",
  "c",
  "h",
  "cpp",
  "rs",
  "ts",
  "js",
  "launch",
  "urdf",
]);
const IMAGE_EXTENSIONS = new Set(["jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "avif"]);
const VIDEO_EXTENSIONS = new Set(["mp4", "webm", "mov", "m4v", "ogv"]);
const AUDIO_EXTENSIONS = new Set(["mp3", "wav", "ogg", "oga", "flac", "m4a", "aac", "opus"]);

export function extensionOf(filename: string): string {
  const base = filename.slice(filename.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

/** What kind of preview a file gets, from its content type, else its extension. */
export function fileKind(filename: string, contentType: string | null | undefined): TFileKind {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  if (
    type.startsWith("text/") ||
    type === "application/json" ||
    type.endsWith("+json") ||
    type.endsWith("+xml") ||
    type === "application/x-ndjson" ||
    type === "application/xml"
  )
    return "text";
  const ext = extensionOf(filename);
  if (IMAGE_EXTENSIONS.has(ext)) return "image";
  if (VIDEO_EXTENSIONS.has(ext)) return "video";
  if (AUDIO_EXTENSIONS.has(ext)) return "audio";
  if (TEXT_EXTENSIONS.has(ext)) return "text";
  return "other";
}

export function isJson(filename: string, contentType: string | null | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json") || extensionOf(filename) === "json";
}

/** SVG can carry script: never render it inline from our origin. */
export function isSafeInlineImage(filename: string, contentType: string | null | undefined): boolean {
  const type = (contentType ?? "").toLowerCase();
  return fileKind(filename, contentType) === "image" && !type.includes("svg") && extensionOf(filename) !== "svg";
}
