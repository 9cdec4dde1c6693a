import "server-only";
import { Readable } from "node:stream";
import { isSafeInlineImage } from "@/lib/file-kind";
import { NotFoundError } from "@/server/errors";
import type { TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { sessionsStore } from "@/server/stores/sessions-store";
import { contentDisposition } from "@fleetdrop/storage/content-disposition";
import { downloadAudit, presignFileGet } from "./file-download-url";
import { auditView, fileWithContents } from "./file-contents";
import type { TFileDetail } from "./get-file";

/** Content types a browser may render inline from our origin (never HTML or SVG: script). */
function inlineContentType(file: TFileDetail): string {
  if (file.kind === "image") return isSafeInlineImage(file.filename, file.contentType) ? file.contentType : "application/octet-stream";
  if (file.kind === "video" || file.kind === "audio") return file.contentType;
  if (file.kind === "text") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

function parseRange(header: string | null, size: number): { start: number; end: number } | "invalid" | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return "invalid";
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

/**
 * The bytes of a file for the browser. `attachment` is a download, `inline` feeds previews
 * (safe content types only); both need the same role (CAN.download) and both are written to
 * the audit log: every download as `file.download`, previews as `file.view` (see
 * VIEW_AUDIT_MINUTES). With
 * the s3 backend the answer is a redirect to a short-lived presigned GET; with the fs backend
 * the bytes are streamed here, with Range support for video seeking.
 */
export async function fileResponse(options: {
  ctx: TProjectContext;
  fileId: string;
  disposition: "attachment" | "inline";
  range: string | null;
}): Promise<Response> {
  const { ctx, disposition } = options;
  const file = await fileWithContents(ctx, options.fileId);
  const store = sessionsStore();
  const contentType = disposition === "attachment" ? file.contentType : inlineContentType(file);
  if (disposition === "attachment") await writeAudit(ctx, downloadAudit(file));
  else await auditView(ctx, file);
  const common = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
  };

  if (store.backend === "s3") {
    const url = await presignFileGet(file, disposition, contentType);
    return new Response(null, { status: 302, headers: { ...common, Location: url } });
  }

  const size = Number(file.size ?? 0);
  const range = parseRange(options.range, size);
  if (range === "invalid") return new Response(null, { status: 416, headers: { ...common, "Content-Range": `bytes */${size}` } });
  const opened = await store.open(file.objectKey, range ? { range } : undefined);
  if (!opened) throw new NotFoundError("The stored object is missing");
  const headers: Record<string, string> = {
    ...common,
    "Content-Type": contentType,
    "Content-Disposition": contentDisposition(file.name, disposition),
    "Accept-Ranges": "bytes",
    "Content-Length": String(range ? range.end - range.start + 1 : opened.info.size),
  };
  if (file.etag) headers.ETag = file.etag;
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${opened.info.size}`;
  return new Response(Readable.toWeb(opened.body) as ReadableStream, { status: range ? 206 : 200, headers });
}
