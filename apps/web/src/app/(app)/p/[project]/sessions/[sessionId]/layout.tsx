import type { ReactNode } from "react";
import { requireProjectPage } from "@/server/auth/page-access";
import { notFoundOnDomainError } from "@/server/page-errors";
import { getSession } from "@/server/sessions/get-session";

/** Checks the session belongs to the project above the loading boundary: a guess is a real 404. */
export default async function SessionLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ project: string; sessionId: string }>;
}) {
  const { project, sessionId } = await params;
  await notFoundOnDomainError(getSession({ ctx: await requireProjectPage(project), sessionId }));
  return children;
}
