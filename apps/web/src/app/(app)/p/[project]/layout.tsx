import type { ReactNode } from "react";
import { requireProjectPage } from "@/server/auth/page-access";

/** Every page below checks membership again (layouts do not guard their pages); this 404s early. */
export default async function ProjectLayout({ children, params }: { children: ReactNode; params: Promise<{ project: string }> }) {
  await requireProjectPage((await params).project);
  return children;
}
