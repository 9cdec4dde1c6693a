import type { Metadata } from "next";
import { CreateProjectForm } from "@/components/admin/create-project-form";
import { CreateUserForm } from "@/components/admin/create-user-form";
import { UserActions } from "@/components/admin/user-actions";
import { PageHeader } from "@/components/ui/page-header";
import { formatDateTime } from "@/lib/format";
import { requirePlatformAdmin } from "@/server/auth/page-access";
import { listUsers } from "@/server/users/list-users";

export const metadata: Metadata = { title: "Administration" };

export default async function AdminPage() {
  const user = await requirePlatformAdmin();
  const users = await listUsers({ user });
  return (
    <>
      <PageHeader crumbs={[{ label: "Administration" }]} title="Administration" description="Projects and user accounts of this Fleetdrop installation." />
      <div className="grid-2">
        <section className="card" aria-labelledby="users-title">
          <div className="card-header">
            <h2 id="users-title">Users</h2>
            <span className="muted">{users.length} accounts</span>
          </div>
          <div className="table-wrap">
            <table className="table" aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col" className="num">Projects</th>
                  <th scope="col" className="hide-sm">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.id}>
                    <td>
                      <strong>{u.name}</strong> {u.isAdmin ? <span className="badge badge-warn">Admin</span> : null} {u.disabled ? <span className="badge badge-danger">Disabled</span> : null}
                      <div className="muted">{u.email}</div>
                    </td>
                    <td className="num">{u.projects}</td>
                    <td className="hide-sm nowrap">{formatDateTime(u.createdAt)}</td>
                    <td>
                      <UserActions userId={u.id} disabled={u.disabled} self={u.id === user.id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
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
