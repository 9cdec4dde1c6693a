import Link from "next/link";
import { redirect } from "next/navigation";
import { FolderKanban } from "lucide-react";
import { RoleBadge } from "@/components/ui/badges";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { requireUser } from "@/server/auth/page-access";
import { listMyProjects } from "@/server/projects/list-my-projects";

export default async function HomePage() {
  const user = await requireUser();
  const projects = await listMyProjects({ user });
  if (projects.length === 1) redirect(`/p/${projects[0]!.slug}`);
  return (
    <>
      <PageHeader title="Projects" description="Each project is a fleet: its devices, their sessions and files." />
      {projects.length === 0 ? (
        <div className="card">
          <EmptyState
            icon={FolderKanban}
            title="You are not in any project yet"
            action={
              user.isAdmin ? (
                <Link className="btn btn-primary" href="/admin">
                  Create a project
                </Link>
              ) : null
            }
          >
            {user.isAdmin
              ? "Create the first project, then add devices and invite your team."
              : "Ask a project owner to invite you with this email address."}
          </EmptyState>
        </div>
      ) : (
        <div className="card">
          <DataTable
            label="Projects"
            rows={projects}
            rowKey={(p) => p.slug}
            columns={[
              { header: "Project", primary: true, cell: (p) => <Link href={`/p/${p.slug}`}>{p.name}</Link> },
              { header: "Your role", cell: (p) => <RoleBadge role={p.role} /> },
            ]}
          />
        </div>
      )}
    </>
  );
}
