import type { ReactNode } from "react";
import { requirePlatformAdmin } from "@/server/auth/page-access";

/**
 * The check sits above the page's loading boundary: inside it the response has started as a
 * 200 before the page can refuse, so a non-admin would get the 403 page with status 200.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  await requirePlatformAdmin();
  return children;
}
