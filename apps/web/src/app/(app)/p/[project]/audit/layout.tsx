import type { ReactNode } from "react";
import { CAN } from "@/lib/roles";
import { requireProjectPage } from "@/server/auth/page-access";

/** The role check sits above the page's loading boundary so a refusal is a real 403. */
export default async function AuditLayout({ children, params }: { children: ReactNode; params: Promise<{ project: string }> }) {
  await requireProjectPage((await params).project, CAN.readAudit);
  return children;
}
