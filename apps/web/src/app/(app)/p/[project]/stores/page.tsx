import type { Metadata } from "next";
import Link from "next/link";
import { deleteStoreObjectAction } from "@/actions/stores";
import { StoreUpload } from "@/components/stores/store-upload";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { formatBytes, formatDateTime } from "@/lib/format";
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

export default async function StoresPage({ params, searchParams }: { params: Promise<{ project: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { project } = await params;
  const ctx = await requireProjectPage(project, CAN.manageDevices);
  const query = await searchParams;
  const stores = [...namedStores().values()];
  const current = stores.find((s) => s.name === one(query.store)) ?? stores[0];
  const devices = await db().device.findMany({ where: { projectId: ctx.project.id }, orderBy: { serial: "asc" }, select: { serial: true, name: true } });
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
        description="What devices download (config, apps, commands, contents) and the reports they upload (status). Devices fetch with file_download/request; per-device stores keep one folder per device."
      />
      <nav aria-label="Stores" className="tabs" style={{ display: "flex", gap: "0.5rem", flexWrap: "wrap", marginBottom: "1rem" }}>
        {stores.map((s) => (
          <Link key={s.name} className={s.name === current?.name ? "btn btn-primary" : "btn"} aria-current={s.name === current?.name ? "page" : undefined} href={`${base}?store=${s.name}`}>
            {s.name}
          </Link>
        ))}
      </nav>
      {!current ? (
        <EmptyState icon="🗄" title="No stores configured">Set STORE_CONFIGURATION (or leave it unset for the defaults).</EmptyState>
      ) : (
        <section className="card" aria-labelledby="store-title">
          <div className="card-header">
            <h2 id="store-title">
              <span className="mono">{current.name}</span>{" "}
              <span className="muted" style={{ fontWeight: "normal", fontSize: "0.9em" }}>
                {current.store.backend} · {current.store.bucket}/{current.store.prefix}
                {current.perDevice ? "{device}/" : ""} · devices {current.deviceAccess === "write" ? "upload reports here" : current.deviceAccess === "read" ? "download from here" : "read and write"}
              </span>
            </h2>
            {current.perDevice ? (
              devices.length > 0 ? (
                <nav aria-label="Device" style={{ display: "flex", gap: "0.25rem", flexWrap: "wrap" }}>
                  {devices.map((d) => (
                    <Link key={d.serial} href={href({ device: d.serial, folder: undefined })} aria-current={d.serial === device?.serial ? "page" : undefined} className={d.serial === device?.serial ? "badge badge-info" : "badge badge-grey"}>
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
            {problem ? <p className="form-error" role="alert">{problem}</p> : null}
            {listing ? (
              <>
                <p aria-label="Folder">
                  <Link href={href({ folder: undefined })}>{current.name}{device ? `/${device.serial}` : ""}</Link>
                  {folderParts.map((part, index) => (
                    <span key={index}>
                      {" / "}
                      <Link href={href({ folder: folderParts.slice(0, index + 1).join("/") })}>{part}</Link>
                    </span>
                  ))}
                </p>
                {listing.canWrite ? <StoreUpload project={ctx.project.slug} store={current.name} device={device?.serial ?? null} folder={folder} /> : null}
                {listing.folders.length === 0 && listing.objects.length === 0 ? (
                  <EmptyState icon="📂" title="Nothing here yet">{listing.canWrite ? "Drop a file above." : "Devices or platform administrators put files here."}</EmptyState>
                ) : (
                  <div className="table-wrap">
                    <table className="table" aria-label={`Files in ${current.name}`}>
                      <thead>
                        <tr>
                          <th scope="col">Name</th>
                          <th scope="col" className="num">Size</th>
                          <th scope="col">Modified</th>
                          <th scope="col">ETag</th>
                          <th scope="col">
                            <span className="sr-only">Actions</span>
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {listing.folders.map((name) => (
                          <tr key={`d-${name}`}>
                            <td colSpan={5}>
                              <Link href={href({ folder: folder ? `${folder}/${name}` : name })}>📁 {name}/</Link>
                            </td>
                          </tr>
                        ))}
                        {listing.objects.map((o) => {
                          const download = `/api/p/${ctx.project.slug}/stores/${current.name}/download?${new URLSearchParams({ ...(device ? { device: device.serial } : {}), path: o.path }).toString()}`;
                          return (
                            <tr key={o.path} data-path={o.path}>
                              <td className="mono">{o.name}</td>
                              <td className="num">{formatBytes(o.size)}</td>
                              <td className="nowrap">{formatDateTime(o.lastModified)}</td>
                              <td className="mono muted">{o.etag.replaceAll('"', "").slice(0, 12)}</td>
                              <td className="nowrap">
                                <a className="btn btn-small" href={download}>
                                  Download
                                </a>{" "}
                                {listing!.canWrite ? (
                                  <ConfirmAction label="Delete" title={`Delete ${o.name}?`} danger action={deleteStoreObjectAction} fields={{ project: ctx.project.slug, store: current.name, device: device?.serial ?? "", path: o.path }} confirmLabel="Delete file" buttonClassName="btn btn-small btn-danger">
                                    <p>
                                      Devices asking for <span className="mono">{o.path}</span> in <span className="mono">{current.name}</span> get “not found” from now on.
                                    </p>
                                  </ConfirmAction>
                                ) : null}
                              </td>
                            </tr>
                          );
                        })}
                      </tbody>
                    </table>
                  </div>
                )}
                {listing.truncated ? <p className="muted">Only the first 5,000 objects below this folder are read; open a sub-folder.</p> : null}
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
          <EmptyState icon="⇣" title="No downloads yet">Each file_download/request a device makes is listed here.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Fetched by devices">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Device</th>
                  <th scope="col">Store</th>
                  <th scope="col">Path</th>
                  <th scope="col" className="num">Size</th>
                </tr>
              </thead>
              <tbody>
                {fetches.map((f) => (
                  <tr key={f.id}>
                    <td className="nowrap">{formatDateTime(f.at)}</td>
                    <td className="mono">{f.device}</td>
                    <td className="mono">{f.store}</td>
                    <td className="mono">{f.path}</td>
                    <td className="num">{f.size === null ? "—" : formatBytes(f.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
