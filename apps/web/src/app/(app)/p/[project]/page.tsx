import { redirect } from "next/navigation";
import { requireProjectPage } from "@/server/auth/page-access";

export default async function ProjectPage({ params }: { params: Promise<{ project: string }> }) {
  const ctx = await requireProjectPage((await params).project);
  redirect(`/p/${ctx.project.slug}/sessions`);
}
