import type { Metadata } from "next";
import { removeMemberAction } from "@/actions/members";
import { RoleBadge } from "@/components/ui/badges";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { PageHeader } from "@/components/ui/page-header";
import { InviteForm } from "@/components/members/invite-form";
import { RoleSelect } from "@/components/members/role-select";
import { DataTable } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { CAN, hasRole, ROLE_DESCRIPTION, ROLE_LABEL, ROLES } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";
import { listMembers } from "@/server/members/list-members";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ project: string }> }) {
  const ctx = await requireProjectPage((await params).project);
  const members = await listMembers({ ctx });
  const canManage = hasRole(ctx.role, CAN.manageMembers);
  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name, href: `/p/${ctx.project.slug}/sessions` }, { label: "Members" }]}
        title="Members"
        description="Who can see this project, and what they may do."
      />
      <div className={canManage ? "grid-2" : undefined}>
        <section className="card" aria-label="Members">
          <DataTable
            label="Members"
            rows={members}
            rowKey={(m) => m.userId}
            columns={[
              {
                header: "Person",
                primary: true,
                cell: (m) => (
                  <>
                    <strong>{m.name}</strong>
                    {m.userId === ctx.user.id ? <span className="muted"> (you)</span> : null}
                    <div className="muted" style={{ fontWeight: 400 }}>
                      {m.email}
                    </div>
                    {m.disabled ? <span className="badge badge-danger">Account disabled</span> : null}
                  </>
                ),
              },
              {
                header: "Role",
                cell: (m) =>
                  canManage ? (
                    <RoleSelect project={ctx.project.slug} userId={m.userId} role={m.role} label={m.email} />
                  ) : (
                    <RoleBadge role={m.role} />
                  ),
              },
              { header: "Member since", className: "nowrap", cell: (m) => <Time value={m.since} /> },
              canManage && {
                header: "Actions",
                hideHeader: true,
                cell: (m) => (
                  <ConfirmAction
                    label="Remove"
                    buttonClassName="btn btn-sm"
                    title={`Remove ${m.email}?`}
                    action={removeMemberAction}
                    fields={{ project: ctx.project.slug, userId: m.userId }}
                    confirmLabel="Remove member"
                    danger
                  >
                    <p>They lose access to this project at once. Their account and other projects are not affected.</p>
                  </ConfirmAction>
                ),
              },
            ]}
          />
        </section>
        {canManage ? (
          <section className="card">
            <div className="card-body">
              <InviteForm project={ctx.project.slug} canCreateAccounts={ctx.user.isAdmin} />
            </div>
          </section>
        ) : null}
      </div>
      <section className="card" aria-labelledby="roles-title">
        <div className="card-header">
          <h2 id="roles-title">Roles</h2>
        </div>
        <div className="card-body">
          <dl className="meta">
            {ROLES.map((r) => (
              <div key={r} style={{ display: "contents" }}>
                <dt>{ROLE_LABEL[r]}</dt>
                <dd>{ROLE_DESCRIPTION[r]}</dd>
              </div>
            ))}
          </dl>
        </div>
      </section>
    </>
  );
}
