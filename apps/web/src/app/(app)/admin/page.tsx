import type { Metadata } from "next";
import { CreateProjectForm } from "@/components/admin/create-project-form";
import { CreateUserForm } from "@/components/admin/create-user-form";
import { UserActions } from "@/components/admin/user-actions";
import { PageHeader } from "@/components/ui/page-header";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { formatCount, formatNumber } from "@/lib/format";
import { requirePlatformAdmin } from "@/server/auth/page-access";
import { listUsers } from "@/server/users/list-users";

export const metadata: Metadata = { title: "Administration" };

export default async function AdminPage() {
  const user = await requirePlatformAdmin();
  const users = await listUsers({ user });
  return (
    <>
      <PageHeader
        crumbs={[{ label: "Administration" }]}
        title="Administration"
        description="Projects and user accounts of this Fleetdrop installation."
      />
      <div className="grid-2">
        <section className="card" aria-labelledby="users-title">
          <div className="card-header">
            <h2 id="users-title">Users</h2>
            <span className="muted">{formatCount(users.length, "account")}</span>
          </div>
          <DataTable
            label="Users"
            rows={users}
            rowKey={(u) => u.id}
            columns={[
              {
                header: "Person",
                primary: true,
                cell: (u) => (
                  <>
                    <strong>{u.name}</strong> {u.isAdmin ? <span className="badge badge-warn">Admin</span> : null}{" "}
                    {u.disabled ? <span className="badge badge-danger">Disabled</span> : null}
                    <div className="muted" style={{ fontWeight: 400 }}>
                      {u.email}
                    </div>
                  </>
                ),
              },
              { header: "Projects", className: "num", cell: (u) => formatNumber(u.projects) },
              { header: "Created", className: "nowrap", cell: (u) => <Time value={u.createdAt} /> },
              {
                header: "Actions",
                hideHeader: true,
                cell: (u) => <UserActions userId={u.id} disabled={u.disabled} self={u.id === user.id} />,
              },
            ]}
          />
        </section>
        <div>
          <section className="card">
            <div className="card-body">
              <CreateProjectForm />
            </div>
          </section>
          <section className="card">
            <div className="card-body">
              <CreateUserForm />
            </div>
          </section>
        </div>
      </div>
    </>
  );
}
