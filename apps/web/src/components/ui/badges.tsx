import type { TFileState } from "@/lib/list-queries";

const FILE_STATE: Record<TFileState, { label: string; className: string; title: string }> = {
  uploaded: { label: "Uploaded", className: "badge badge-ok", title: "Stored and ready" },
  pending: { label: "Pending", className: "badge badge-info badge-pulse", title: "Upload form issued; waiting for the device's upload" },
  expired: { label: "Expired", className: "badge badge-grey", title: "The upload form expired before the device used it" },
  failed: { label: "Failed", className: "badge badge-danger", title: "The upload failed" },
};

export function FileStateBadge({ state }: { state: TFileState }) {
  const s = FILE_STATE[state];
  return (
    <span className={s.className} title={s.title}>
      {s.label}
    </span>
  );
}

export function SessionStateBadge({ state }: { state: "open" | "closed" }) {
  return state === "open" ? (
    <span className="badge badge-ok" title="Devices can upload to it">
      Open
    </span>
  ) : (
    <span className="badge badge-grey" title="Closed: no more uploads">
      Closed
    </span>
  );
}

export function DeviceStateBadge({ enabled }: { enabled: boolean }) {
  return enabled ? <span className="badge badge-ok">Enabled</span> : <span className="badge badge-danger">Disabled</span>;
}

export function RoleBadge({ role }: { role: string }) {
  const cls = role === "owner" ? "badge badge-warn" : role === "admin" ? "badge badge-info" : "badge badge-grey";
  return <span className={cls}>{role[0]!.toUpperCase() + role.slice(1)}</span>;
}
