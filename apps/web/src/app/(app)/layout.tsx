import type { ReactNode } from "react";
import { AppShell } from "@/components/shell/app-shell";
import { requireUser } from "@/server/auth/page-access";
import { listMyProjects } from "@/server/projects/list-my-projects";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const projects = await listMyProjects({ user });
  return (
    <AppShell user={{ name: user.name, email: user.email, isAdmin: user.isAdmin }} projects={projects}>
      {children}
    </AppShell>
  );
}
