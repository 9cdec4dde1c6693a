import type { ReactNode } from "react";
import { requireProjectPage } from "@/server/auth/page-access";
import { getDevice } from "@/server/devices/get-device";
import { notFoundOnDomainError } from "@/server/page-errors";

/** Checks the device belongs to the project above the loading boundary (real 404). */
export default async function DeviceLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ project: string; serial: string }>;
}) {
  const { project, serial } = await params;
  await notFoundOnDomainError(getDevice({ ctx: await requireProjectPage(project), serial: decodeURIComponent(serial) }));
  return children;
}
