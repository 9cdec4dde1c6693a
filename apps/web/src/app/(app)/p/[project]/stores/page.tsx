import type { Metadata } from "next";
import Link from "next/link";
import { deleteStoreObjectAction } from "@/actions/stores";
import { StoreUpload } from "@/components/stores/store-upload";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Database, Download, Folder, FolderOpen } from "lucide-react";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatBytes } from "@/lib/format";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { db } from "@/server/db";
import { UserInputError } from "@/server/errors";
import { notFoundOnDomainError } from "@/server/page-errors";
import { namedStores } from "@/server/stores/named-stores";
import { listStoreFetches } from "@/server/stores/list-store-fetches";
import { listStoreObjects } from "@/server/stores/list-store-objects";

export const metadata: Metadata = { title: "Stores" };

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export default async function StoresPage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageDevices);
  const query = await searchParams;
  const stores = [...namedStores().values()];
  const current = stores.find((s) => s.name === one(query.store)) ?? stores[0];
  const devices = await db().device.findMany({
    where: { projectId: ctx.project.id },
    orderBy: { serial: "asc" },
    select: { serial: true, name: true },
  });
  const device = current?.perDevice ? (devices.find((d) => d.serial === one(query.device)) ?? devices[0] ?? null) : null;
  const folder = one(query.folder) ?? "";
  const base = `/p/${ctx.project.slug}/stores`;
  const href = (patch: Record<string, string | undefined>) => {
    const next = new URLSearchParams();
    const merged = { store: current?.name, device: device?.serial, folder, ...patch };
    for (const [key, value] of Object.entries(merged)) if (value) next.set(key, value);
    return `${base}?${next.toString()}`;
  };

  let listing: Awaited<ReturnType<typeof listStoreObjects>> | null = null;
  let problem: string | null = null;
  if (current && (!current.perDevice || device)) {
    try {
      listing = await notFoundOnDomainError(listStoreObjects({ ctx, store: current.name, device: device?.serial, folder }));
    } catch (error) {
      if (error instanceof UserInputError) problem = error.message;
      else throw error;
    }
  }
  const fetches = await listStoreFetches({ ctx, store: current?.name, device: device?.serial, limit: 20 });
  const folderParts = folder ? folder.split("/") : [];

  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${ctx.project.slug}/sessions` }, { label: "Stores" }]}
        title="Stores"
        description={
          "What devices download (config, apps, commands, contents) and the reports they upload (status). " +
          "Devices fetch with file_download/request; per-device stores keep one folder per device."
        }
      />
      <nav aria-label="Stores" className="tabs" style={{ display: "flex", gap: "0.5rem", flexWrap: "wrap", marginBottom: "1rem" }}>
        {stores.map((s) => (
          <Link
            key={s.name}
            className={s.name === current?.name ? "btn btn-primary" : "btn"}
            aria-current={s.name === current?.name ? "page" : undefined}
            href={`${base}?store=${s.name}`}
          >
            {s.name}
          </Link>
        ))}
      </nav>
      {!current ? (
        <EmptyState icon={Database} title="No stores configured">
          Set STORE_CONFIGURATION (or leave it unset for the defaults).
        </EmptyState>
      ) : (
        <section className="card" aria-labelledby="store-title">
          <div className="card-header">
            <h2 id="store-title">
              <span className="mono">{current.name}</span>{" "}
              <span className="muted" style={{ fontWeight: "normal", fontSize: "0.9em" }}>
                {current.store.backend} · {current.store.bucket}/{current.store.prefix}
                {current.perDevice ? "{device}/" : ""} · devices{" "}
                {current.deviceAccess === "write"
                  ? "upload reports here"
                  : current.deviceAccess === "read"
                    ? "download from here"
                    : "read and write"}
              </span>
            </h2>
            {current.perDevice ? (
              devices.length > 0 ? (
                <nav aria-label="Device" style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                  {devices.map((d) => (
                    <Link
                      key={d.serial}
                      href={href({ device: d.serial, folder: undefined })}
                      aria-current={d.serial === device?.serial ? "page" : undefined}
                      className={d.serial === device?.serial ? "badge badge-info" : "badge badge-grey"}
                    >
                      {d.serial}
                    </Link>
                  ))}
                </nav>
              ) : null
            ) : (
              <span className="muted">Shared by every project{listing?.canWrite ? "" : " — only platform administrators change it"}</span>
            )}
          </div>
          <div className="card-body">
            {current.perDevice && !device ? <p className="muted">Add a device first: this store keeps one folder per device.</p> : null}
            {problem ? (
              <p className="form-error" role="alert">
                {problem}
              </p>
            ) : null}
            {listing ? (
              <>
                <nav aria-label="Folder" style={{ margin: "0 0 12px" }}>
                  <Link href={href({ folder: undefined })}>
                    {current.name}
                    {device ? `/${device.serial}` : ""}
                  </Link>
                  {folderParts.map((part, index) => (
                    <span key={index}>
                      {" / "}
                      <Link href={href({ folder: folderParts.slice(0, index + 1).join("/") })}>{part}</Link>
                    </span>
                  ))}
                </nav>
                {listing.canWrite ? (
                  <StoreUpload project={ctx.project.slug} store={current.name} device={device?.serial ?? null} folder={folder} />
                ) : null}
                {listing.folders.length === 0 && listing.objects.length === 0 ? (
                  <EmptyState icon={FolderOpen} title="Nothing here yet">
                    {listing.canWrite ? "Drop a file above." : "Devices or platform administrators put files here."}
                  </EmptyState>
                ) : (
                  <DataTable
                    label={`Files in ${current.name}`}
                    rows={[
                      ...listing.folders.map((name) => ({ kind: "folder" as const, name })),
                      ...listing.objects.map((o) => ({ kind: "object" as const, ...o })),
                    ]}
                    rowKey={(r) => (r.kind === "folder" ? `d-${r.name}` : r.path)}
                    rowProps={(r) => (r.kind === "object" ? { "data-path": r.path } : {})}
                    columns={[
                      {
                        header: "Name",
                        primary: true,
                        cell: (r) =>
                          r.kind === "folder" ? (
                            <Link
                              href={href({ folder: folder ? `${folder}/${r.name}` : r.name })}
                              style={{ display: "inline-flex", alignItems: "center", gap: 6 }}
                            >
                              <Folder className="icon" aria-hidden="true" /> {r.name}/
                            </Link>
                          ) : (
                            <span className="mono">{r.name}</span>
                          ),
                      },
                      { header: "Size", className: "num nowrap", cell: (r) => (r.kind === "object" ? formatBytes(r.size) : null) },
                      {
                        header: "Modified",
                        className: "nowrap",
                        cell: (r) => (r.kind === "object" ? <Time value={r.lastModified} /> : null),
                      },
                      {
                        header: "ETag",
                        className: "mono muted nowrap",
                        cell: (r) =>
                          r.kind === "object" ? (
                            <span title={r.etag.replaceAll('"', "")}>{r.etag.replaceAll('"', "").slice(0, 12)}</span>
                          ) : null,
                      },
                      {
                        header: "Actions",
                        hideHeader: true,
                        className: "nowrap",
                        cell: (r) => {
                          if (r.kind !== "object") return null;
                          const params = new URLSearchParams({ ...(device ? { device: device.serial } : {}), path: r.path });
                          const download = `/api/p/${ctx.project.slug}/stores/${current.name}/download?${params.toString()}`;
                          return (
                            <div className="actions">
                              <a className="btn btn-sm" href={download}>
                                <Download className="icon" aria-hidden="true" /> Download
                              </a>
                              {listing.canWrite ? (
                                <ConfirmAction
                                  label="Delete"
                                  title={`Delete ${r.name}?`}
                                  danger
                                  action={deleteStoreObjectAction}
                                  fields={{ project: ctx.project.slug, store: current.name, device: device?.serial ?? "", path: r.path }}
                                  confirmLabel="Delete file"
                                  buttonClassName="btn btn-sm btn-danger"
                                >
                                  <p>
                                    Devices asking for <span className="mono">{r.path}</span> in{" "}
                                    <span className="mono">{current.name}</span> get “not found” from now on.
                                  </p>
                                </ConfirmAction>
                              ) : null}
                            </div>
                          );
                        },
                      },
                    ]}
                  />
                )}
                {listing.truncated ? (
                  <p className="muted">Only the first 5,000 objects below this folder are read; open a sub-folder.</p>
                ) : null}
              </>
            ) : null}
          </div>
        </section>
      )}
      <section className="card" aria-labelledby="fetches-title">
        <div className="card-header">
          <h2 id="fetches-title">Fetched by devices</h2>
        </div>
        {fetches.length === 0 ? (
          <EmptyState icon={Download} title="No downloads yet">
            Each file_download/request a device makes is listed here.
          </EmptyState>
        ) : (
          <DataTable
            label="Fetched by devices"
            rows={fetches}
            rowKey={(f) => f.id}
            columns={[
              { header: "When", className: "nowrap", cell: (f) => <Time value={f.at} /> },
              { header: "Device", className: "mono", cell: (f) => f.device },
              { header: "Store", className: "mono", cell: (f) => f.store },
              { header: "Path", primary: true, className: "mono", cell: (f) => f.path },
              { header: "Size", className: "num nowrap", cell: (f) => (f.size === null ? "—" : formatBytes(f.size)) },
            ]}
          />
        )}
      </section>
    </>
  );
}
