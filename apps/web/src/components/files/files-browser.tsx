"use client";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { FileStateBadge } from "@/components/ui/badges";
import { EmptyState } from "@/components/ui/empty-state";
import { extensionOf, isSafeInlineImage } from "@/lib/file-kind";
import { Download, Folder, Hourglass, SearchX, TriangleAlert } from "lucide-react";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import {
  FILE_KINDS,
  FILE_QUERY_DEFAULTS,
  FILE_STATES,
  firstValues,
  toSearch,
  ZFileListQuerySchema,
  type TFileListQuery,
} from "@/lib/list-queries";
import { fetchJson } from "@/lib/query/query-client";
import { fileContentUrl, filesListUrl } from "@/lib/query/files";
import { filesKeys } from "@/lib/query/keys";
import type { TFileList, TFileRow } from "@/server/files/list-files";
import { Lightbox } from "./lightbox";

type TRow = { kind: "folder"; folder: TFileList["folders"][number] } | { kind: "file"; file: TFileRow };

const SORT_DEFAULT_DIR: Record<TFileListQuery["sort"], "asc" | "desc"> = {
  name: "asc",
  size: "desc",
  uploaded: "desc",
  state: "asc",
  type: "asc",
};

function FileIcon({ file }: { file: TFileRow }) {
  const ext = extensionOf(file.filename).slice(0, 4) || file.kind.slice(0, 3);
  return (
    <span className="file-icon" aria-hidden="true">
      {ext}
    </span>
  );
}

export function FilesBrowser({
  project,
  sessionId,
  canDownload,
  sessionOpen,
}: {
  project: string;
  sessionId: number;
  canDownload: boolean;
  sessionOpen: boolean;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const query = useMemo(() => ZFileListQuerySchema.parse(firstValues(new URLSearchParams(searchParams.toString()))), [searchParams]);
  const [search, setSearch] = useState(query.q ?? "");
  const [lightbox, setLightbox] = useState<number | null>(null);

  // The latest query, also while a URL change is on its way (several changes in a row merge).
  const latest = useRef(query);
  useEffect(() => {
    latest.current = query;
  }, [query]);
  const setQuery = (patch: Partial<TFileListQuery>) => {
    const next = { ...latest.current, page: 1, ...patch };
    latest.current = next;
    router.replace(`${pathname}${toSearch(next, FILE_QUERY_DEFAULTS)}`, { scroll: false });
  };

  // Debounced search as you type.
  const typed = useRef(false);
  useEffect(() => {
    if (!typed.current) return;
    const timer = setTimeout(() => {
      typed.current = false;
      if ((latest.current.q ?? "") !== search) setQuery({ q: search || undefined });
    }, 300);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  const result = useQuery({
    queryKey: filesKeys.list(project, sessionId, query),
    queryFn: () => fetchJson<TFileList>(filesListUrl(project, sessionId, query)),
    placeholderData: keepPreviousData,
    // Live: new files appear and pending ones turn uploaded without a reload.
    refetchInterval: (q) => ((q.state.data?.counts.pending ?? 0) > 0 || sessionOpen ? 2_500 : 15_000),
    refetchIntervalInBackground: false,
  });

  // Rows that were not there on the previous poll flash once.
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [announcement, setAnnouncement] = useState("");
  useEffect(() => {
    const rows = result.data?.rows;
    if (!rows) return;
    const ids = new Set(rows.map((r) => r.id));
    if (seen.current && !result.isPlaceholderData) {
      const added = rows.filter((r) => !seen.current!.has(r.id)).map((r) => r.id);
      if (added.length > 0) {
        setFresh(new Set(added));
        setAnnouncement(`${formatCount(added.length, "new file")}`);
      }
    }
    seen.current = ids;
  }, [result.data, result.isPlaceholderData]);
  useEffect(() => {
    seen.current = null;
  }, [query.path, query.page, query.q, query.state, query.kind, query.sort, query.dir]);

  // The session's header (file, byte and pending totals) is rendered on the server: when a poll
  // shows the session's counts changed, refresh it so the cards agree with the list.
  const countsSeen = useRef<string | null>(null);
  const counts = result.data?.counts;
  useEffect(() => {
    if (!counts) return;
    const signature = JSON.stringify(counts);
    if (countsSeen.current !== null && countsSeen.current !== signature) router.refresh();
    countsSeen.current = signature;
  }, [counts, router]);

  const data = result.data;
  // Thumbnails are file contents: only for roles that may read them (the same as downloads).
  const images = canDownload
    ? (data?.rows ?? []).filter((f) => f.state === "uploaded" && isSafeInlineImage(f.filename, f.contentType))
    : [];
  const segments = query.path.split("/").filter(Boolean);
  const filtered = Boolean(query.q || query.state || query.kind);

  const sortable = (label: string, column: TFileListQuery["sort"]): Pick<TColumn<TRow>, "ariaSort" | "headerContent"> => {
    const active = query.sort === column;
    const dir = active ? (query.dir ?? SORT_DEFAULT_DIR[column]) : undefined;
    return {
      ariaSort: dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none",
      headerContent: (
        <button
          type="button"
          className="btn-ghost"
          style={{ border: "none", background: "none", font: "inherit", fontWeight: 650, cursor: "pointer", padding: 0, color: "inherit" }}
          onClick={() => setQuery({ sort: column, dir: active ? (dir === "asc" ? "desc" : "asc") : SORT_DEFAULT_DIR[column] })}
        >
          {label}
          {dir ? (
            <span className="sort-indicator" aria-hidden="true">
              {dir === "asc" ? "▲" : "▼"}
            </span>
          ) : null}
        </button>
      ),
    };
  };

  return (
    <section className="card" aria-labelledby="files-title">
      <div className="card-header">
        <div>
          <h2 id="files-title">Files</h2>
          <nav className="pathbar" aria-label="Folder">
            <button
              type="button"
              className="btn btn-sm btn-ghost"
              onClick={() => setQuery({ path: "" })}
              aria-current={segments.length === 0 ? "location" : undefined}
            >
              Session root
            </button>
            {segments.map((segment, i) => {
              const path = `${segments.slice(0, i + 1).join("/")}/`;
              return (
                <span key={path}>
                  /{" "}
                  <button
                    type="button"
                    className="btn btn-sm btn-ghost"
                    onClick={() => setQuery({ path })}
                    aria-current={i === segments.length - 1 ? "location" : undefined}
                  >
                    {segment}
                  </button>
                </span>
              );
            })}
          </nav>
        </div>
        <div className="actions muted" aria-live="polite">
          {result.isError ? (
            <span className="badge badge-danger">Live updates paused: {result.error.message}</span>
          ) : sessionOpen ? (
            <span className="badge badge-ok badge-pulse" title="The list refreshes by itself while the device can upload">
              Live
            </span>
          ) : null}
          <span className="sr-only">{announcement}</span>
        </div>
      </div>
      <div className="filters" role="search" aria-label="Filter files">
        <div className="field grow">
          <label htmlFor="file-search">Search {query.path ? `in ${query.path}` : "all files"}</label>
          <input
            id="file-search"
            type="search"
            value={search}
            onChange={(e) => {
              typed.current = true;
              setSearch(e.target.value);
            }}
            placeholder="File name, e.g. .jpg or system"
          />
        </div>
        <div className="field">
          <label htmlFor="file-state">State</label>
          <select
            id="file-state"
            value={query.state ?? ""}
            onChange={(e) => setQuery({ state: (e.target.value || undefined) as TFileListQuery["state"] })}
          >
            <option value="">Any</option>
            {FILE_STATES.map((s) => (
              <option key={s} value={s}>
                {s[0]!.toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="file-kind">Type</label>
          <select
            id="file-kind"
            value={query.kind ?? ""}
            onChange={(e) => setQuery({ kind: (e.target.value || undefined) as TFileListQuery["kind"] })}
          >
            <option value="">Any</option>
            {FILE_KINDS.map((k) => (
              <option key={k} value={k}>
                {k[0]!.toUpperCase() + k.slice(1)}
              </option>
            ))}
          </select>
        </div>
      </div>

      {!data ? (
        result.isError ? (
          <EmptyState
            icon={TriangleAlert}
            title="The files could not be loaded"
            action={
              <button className="btn" type="button" onClick={() => void result.refetch()}>
                Try again
              </button>
            }
          >
            {result.error.message}
          </EmptyState>
        ) : (
          <div aria-busy="true" style={{ padding: 16 }}>
            {Array.from({ length: 6 }, (_, i) => (
              <div key={i} className="skeleton" style={{ height: 36, marginBottom: 8 }} />
            ))}
          </div>
        )
      ) : data.rows.length === 0 && data.folders.length === 0 ? (
        filtered ? (
          <EmptyState
            icon={SearchX}
            title="No files match"
            action={
              <button
                className="btn"
                type="button"
                onClick={() => {
                  setSearch("");
                  setQuery({ q: undefined, state: undefined, kind: undefined });
                }}
              >
                Clear the filters
              </button>
            }
          >
            Nothing in this folder matches the search or filters.
          </EmptyState>
        ) : (
          <EmptyState icon={Hourglass} title={sessionOpen ? "Waiting for the first file" : "This session has no files"}>
            {sessionOpen
              ? "Files appear here as soon as the device asks to upload them (as pending) " +
                "and turn uploaded when they land — no need to reload."
              : "The session was closed before any file was uploaded."}
          </EmptyState>
        )
      ) : (
        <>
          <DataTable
            label="Files"
            rows={[
              ...(query.page === 1 && !query.q ? data.folders.map((folder) => ({ kind: "folder" as const, folder })) : []),
              ...data.rows.map((file) => ({ kind: "file" as const, file })),
            ]}
            rowKey={(r) => (r.kind === "folder" ? `d:${r.folder.path}` : r.file.id)}
            rowProps={(r) =>
              r.kind === "file"
                ? {
                    className: fresh.has(r.file.id) ? "is-new" : undefined,
                    "data-testid": "file-row",
                    "data-filename": r.file.filename,
                    "data-size": r.file.size ?? "",
                  }
                : {}
            }
            columns={[
              {
                header: "Name",
                primary: true,
                ...sortable("Name", "name"),
                cell: (r) => {
                  if (r.kind === "folder") {
                    return (
                      <div className="name-cell">
                        <span className="file-icon" aria-hidden="true">
                          <Folder size={18} />
                        </span>
                        <button
                          type="button"
                          className="btn btn-ghost btn-sm"
                          style={{ padding: 0, color: "var(--brand)" }}
                          onClick={() => setQuery({ path: r.folder.path })}
                        >
                          {r.folder.name}/
                        </button>
                      </div>
                    );
                  }
                  const file = r.file;
                  const imageIndex = images.findIndex((i) => i.id === file.id);
                  return (
                    <div className="name-cell">
                      {imageIndex >= 0 ? (
                        <button
                          type="button"
                          className="thumb-button"
                          onClick={() => setLightbox(imageIndex)}
                          aria-label={`Open ${file.name} in the image viewer`}
                        >
                          {/* eslint-disable-next-line @next/next/no-img-element */}
                          <img className="thumb" src={fileContentUrl(project, file.id, "inline")} alt="" loading="lazy" decoding="async" />
                        </button>
                      ) : (
                        <FileIcon file={file} />
                      )}
                      <Link href={`/p/${project}/sessions/${sessionId}/files/${file.id}`}>
                        {query.q ? file.filename.slice(query.path.length) : file.name}
                      </Link>
                    </div>
                  );
                },
              },
              {
                header: "Type",
                className: "muted mono",
                ...sortable("Type", "type"),
                cell: (r) => (r.kind === "folder" ? "Folder" : r.file.contentType),
              },
              {
                header: "Size",
                className: "num nowrap",
                ...sortable("Size", "size"),
                cell: (r) => formatBytes(r.kind === "folder" ? r.folder.bytes : r.file.size),
              },
              {
                header: "State",
                ...sortable("State", "state"),
                cell: (r) =>
                  r.kind === "folder" ? (
                    <span className="muted">{formatCount(r.folder.files, "file")}</span>
                  ) : (
                    <FileStateBadge state={r.file.state} />
                  ),
              },
              {
                header: "Uploaded",
                className: "nowrap",
                ...sortable("Uploaded", "uploaded"),
                cell: (r) => (r.kind === "file" && r.file.uploadedAt ? <Time value={r.file.uploadedAt} /> : null),
              },
              {
                header: "Actions",
                hideHeader: true,
                className: "nowrap",
                cell: (r) =>
                  r.kind === "file" && canDownload && r.file.state === "uploaded" ? (
                    <a
                      className="btn btn-sm"
                      href={fileContentUrl(project, r.file.id, "attachment")}
                      download
                      aria-label={`Download ${r.file.name}`}
                    >
                      <Download className="icon" aria-hidden="true" /> Download
                    </a>
                  ) : null,
              },
            ]}
          />
          <div className="pagination">
            <span>
              {data.total === 0
                ? "No files in this folder"
                : `${formatNumber((data.page - 1) * data.pageSize + 1)}–${formatNumber(Math.min(data.total, data.page * data.pageSize))} ` +
                  `of ${formatCount(data.total, "file")}${query.q ? " found" : " here"}`}
              {" · "}
              {formatNumber(data.counts.all)} in the session
              {data.counts.pending > 0 ? `, ${formatNumber(data.counts.pending)} pending` : ""}
            </span>
            {data.total > data.pageSize ? (
              <nav aria-label="Pages">
                <button type="button" className="btn btn-sm" disabled={data.page <= 1} onClick={() => setQuery({ page: data.page - 1 })}>
                  ← Previous
                </button>
                <span className="btn btn-sm btn-ghost" aria-current="page">
                  Page {formatNumber(data.page)} of {formatNumber(Math.ceil(data.total / data.pageSize))}
                </span>
                <button
                  type="button"
                  className="btn btn-sm"
                  disabled={data.page * data.pageSize >= data.total}
                  onClick={() => setQuery({ page: data.page + 1 })}
                >
                  Next →
                </button>
              </nav>
            ) : null}
          </div>
        </>
      )}
      <Lightbox project={project} images={images} index={lightbox} onIndex={setLightbox} canDownload={canDownload} />
    </section>
  );
}
