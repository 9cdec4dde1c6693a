import type { ReactNode } from "react";
import { notFound } from "next/navigation";
import { requireProjectPage } from "@/server/auth/page-access";
import { getFile } from "@/server/files/get-file";
import { notFoundOnDomainError } from "@/server/page-errors";

/** Checks the file belongs to this session of the project above the loading boundary (real 404). */
export default async function FileLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ project: string; sessionId: string; fileId: string }>;
}) {
  const { project, sessionId, fileId } = await params;
  const file = await notFoundOnDomainError(getFile({ ctx: await requireProjectPage(project), fileId }));
  if (String(file.sessionId) !== sessionId) notFound();
  return children;
}
