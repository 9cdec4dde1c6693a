import type { ReactNode } from "react";
import { cookies } from "next/headers";
import { AppShell } from "@/components/shell/app-shell";
import { LAST_PROJECT_COOKIE } from "@/lib/last-project";
import { requireUser } from "@/server/auth/page-access";
import { listMyProjects } from "@/server/projects/list-my-projects";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const projects = await listMyProjects({ user });
  const lastProject = (await cookies()).get(LAST_PROJECT_COOKIE)?.value ?? null;
  return (
    <AppShell user={{ name: user.name, email: user.email, isAdmin: user.isAdmin }} projects={projects} lastProject={lastProject}>
      {children}
    </AppShell>
  );
}
