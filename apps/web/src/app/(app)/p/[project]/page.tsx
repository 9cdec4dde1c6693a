import type { Metadata } from "next";
import Link from "next/link";
import { OverviewCharts } from "@/components/overview/overview-charts";
import { PageHeader } from "@/components/ui/page-header";
import { firstValues } from "@/lib/list-queries";
import { OVERVIEW_RANGES, ZOverviewQuerySchema } from "@/lib/overview";
import { requireProjectPage } from "@/server/auth/page-access";
import { getOverview } from "@/server/overview/get-overview";

export const metadata: Metadata = { title: "Overview" };

export default async function OverviewPage({
  params,
  searchParams,
}: {
  params: Promise<{ project: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const ctx = await requireProjectPage((await params).project);
  const query = ZOverviewQuerySchema.parse(firstValues(await searchParams));
  const overview = await getOverview({ ctx, query });
  const base = `/p/${ctx.project.slug}`;
  return (
    <>
      <PageHeader
        crumbs={[{ label: ctx.project.name }]}
        title="Overview"
        description="What arrives, what is refused, which devices are online and what they hold back. Click a bar for the list behind it."
        actions={
          <nav className="segmented" aria-label="Range">
            {(Object.keys(OVERVIEW_RANGES) as (keyof typeof OVERVIEW_RANGES)[]).map((range) => (
              <Link
                key={range}
                className="btn btn-sm"
                href={`${base}?range=${range}`}
                aria-current={range === query.range ? "page" : undefined}
              >
                {range}
              </Link>
            ))}
          </nav>
        }
      />
      <OverviewCharts project={ctx.project.slug} query={query} initial={overview} />
    </>
  );
}
