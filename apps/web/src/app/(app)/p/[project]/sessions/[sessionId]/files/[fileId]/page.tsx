import { CopyValue } from "@/components/files/copy-value";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { FileStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { CodeView } from "@/components/files/code-view";
import { isJson, isSafeInlineImage } from "@/lib/file-kind";
import { Download, FileText, Hourglass, Lock, Package } from "lucide-react";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { fileContentUrl } from "@/lib/query/files";
import { CAN, hasRole } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { getFile, type TFileDetail } from "@/server/files/get-file";
import { readJsonPreview } from "@/server/files/read-json-preview";
import { readTextPreview } from "@/server/files/read-text-preview";
import { notFoundOnDomainError } from "@/server/page-errors";
import type { TProjectContext } from "@/server/auth/project-context";

const ARRIVED_VIA: Record<string, string> = {
  form: "upload form (HTTPS POST)",
  agent: "device agent (upload form)",
  mqtt_transfer: "file transfer over MQTT",
  multipart: "multipart upload (HTTPS parts)",
};

export const metadata: Metadata = { title: "File" };

const STATE_TEXT = {
  pending: "The device has been given an upload form for this file; it appears here as soon as storage has it.",
  expired: "The upload form expired before the device used it. The device can ask again.",
  failed: "The upload failed. The device can try again.",
} as const;

async function Preview({ ctx, file }: { ctx: TProjectContext; file: TFileDetail }) {
  const src = fileContentUrl(ctx.project.slug, file.id, "inline");
  if (file.state !== "uploaded") {
    return (
      <EmptyState icon={Hourglass} title={`This file is ${file.state}`}>
        {STATE_TEXT[file.state]}
      </EmptyState>
    );
  }
  if (file.kind === "image" && isSafeInlineImage(file.filename, file.contentType)) {
    return (
      <a href={src} target="_blank" rel="noopener" aria-label={`Open ${file.name} full size in a new tab`}>
        {/* eslint-disable-next-line @next/next/no-img-element */}
        <img className="preview-image" src={src} alt={file.name} data-testid="preview-image" />
      </a>
    );
  }
  if (file.kind === "video") {
    return <video className="preview-media" src={src} controls preload="metadata" data-testid="preview-video" aria-label={file.name} />;
  }
  if (file.kind === "audio") {
    return <audio src={src} controls preload="metadata" style={{ width: "100%" }} data-testid="preview-audio" aria-label={file.name} />;
  }
  if (file.kind === "text") {
    if (isJson(file.filename, file.contentType)) {
      const json = await readJsonPreview({ ctx, fileId: file.id });
      if (json) {
        return (
          <pre className="code-view json-view" data-testid="preview-json" tabIndex={0} aria-label="JSON, formatted">
            {json.pretty}
          </pre>
        );
      }
    }
    const text = await readTextPreview({ ctx, fileId: file.id });
    if (text.head.length === 0) return <EmptyState icon={FileText} title="Empty file" />;
    return (
      <div data-testid="preview-text">
        {text.truncated ? (
          <p className="notice">
            Large file: showing the first {formatNumber(text.head.length)} and the last {formatCount(text.tail.length, "line")}.
          </p>
        ) : null}
        <CodeView
          head={text.head}
          tail={text.tail}
          skippedBytes={text.skippedBytes}
          truncated={text.truncated}
          label={`Contents of ${file.name}`}
        />
      </div>
    );
  }
  return (
    <EmptyState icon={Package} title="No preview for this type">
      {file.contentType} files can be downloaded and opened on your computer.
    </EmptyState>
  );
}

export default async function FilePage({ params }: { params: Promise<{ project: string; sessionId: string; fileId: string }> }) {
  const { project, sessionId, fileId } = await params;
  const ctx = await requireProjectPage(project);
  const file = await notFoundOnDomainError(getFile({ ctx, fileId }));
  if (String(file.sessionId) !== sessionId) notFound();
  const base = `/p/${ctx.project.slug}`;
  const canDownload = hasRole(ctx.role, CAN.download);
  const folder = file.filename.includes("/") ? file.filename.slice(0, file.filename.lastIndexOf("/") + 1) : "";

  return (
    <>
      <PageHeader
        crumbs={[
          { label: ctx.project.name, href: `${base}/sessions` },
          { label: "Sessions", href: `${base}/sessions` },
          { label: `${file.sessionName} (#${file.sessionId})`, href: `${base}/sessions/${file.sessionId}` },
          ...(folder ? [{ label: folder, href: `${base}/sessions/${file.sessionId}?path=${encodeURIComponent(folder)}` }] : []),
          { label: file.name },
        ]}
        title={
          <>
            {file.name} <FileStateBadge state={file.state} />
          </>
        }
        description={`${file.contentType} · ${formatBytes(file.size)}`}
        actions={
          canDownload && file.state === "uploaded" ? (
            <a
              className="btn btn-primary"
              href={fileContentUrl(ctx.project.slug, file.id, "attachment")}
              download
              data-testid="download-file"
            >
              <Download className="icon" aria-hidden="true" /> Download
            </a>
          ) : null
        }
      />
      <div className="grid-2">
        <section className="card" aria-label="Preview">
          <div className="card-body">
            {canDownload ? (
              <Preview ctx={ctx} file={file} />
            ) : (
              <EmptyState icon={Lock} title="No preview for your role">
                Viewers see file details; members and up see previews and download files.
              </EmptyState>
            )}
          </div>
        </section>
        <section className="card" aria-labelledby="details-title">
          <div className="card-header">
            <h2 id="details-title">Details</h2>
          </div>
          <div className="card-body">
            <dl className="meta">
              <dt>Name</dt>
              <dd className="mono">{file.filename}</dd>
              <dt>State</dt>
              <dd>
                <FileStateBadge state={file.state} />
              </dd>
              <dt>Type</dt>
              <dd className="mono">{file.contentType}</dd>
              <dt>Size</dt>
              <dd>{file.size ? `${formatBytes(file.size)} (${formatCount(Number(file.size), "byte")})` : "—"}</dd>
              <dt>Uploaded</dt>
              <dd>
                <Time value={file.uploadedAt} />
              </dd>
              <dt>Requested</dt>
              <dd>
                <Time value={file.createdAt} />
              </dd>
              <dt>Device</dt>
              <dd>{file.deviceSerial}</dd>
              <dt>Object key</dt>
              <dd className="mono">{file.objectKey}</dd>
              <dt>ETag</dt>
              <dd className="mono etag">{file.etag ? file.etag.replaceAll('"', "") : "—"}</dd>
              <dt>SHA-256</dt>
              <dd className="etag" data-testid="file-sha256">
                {file.sha256 ? (
                  <CopyValue value={file.sha256} label="SHA-256" />
                ) : (
                  <span className="muted">
                    {file.state === "uploaded"
                      ? "not known yet (the platform computes it after the upload; an unreadable object leaves it unknown)"
                      : "known once the file is uploaded"}
                  </span>
                )}
              </dd>
              <dt>Arrived</dt>
              <dd data-testid="file-arrived-via">{ARRIVED_VIA[file.arrivedVia ?? ""] ?? "not recorded"}</dd>
              {file.userData !== null ? (
                <>
                  <dt>Device data</dt>
                  <dd>
                    <pre
                      className="mono"
                      data-testid="file-user-data"
                      style={{ margin: 0, whiteSpace: "pre-wrap", wordBreak: "break-word" }}
                    >
                      {file.userData}
                    </pre>
                  </dd>
                </>
              ) : null}
            </dl>
          </div>
        </section>
      </div>
    </>
  );
}
