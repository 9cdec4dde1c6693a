import Link from "next/link";
import type { TPluralForms } from "@fleetdrop/shared/format/plural";
import { formatCount, formatNumber, plural } from "@/lib/format";

/** Server-rendered pager: plain links, works without JavaScript. */
export function Pagination({
  page,
  pageSize,
  total,
  hrefFor,
  noun,
}: {
  page: number;
  pageSize: number;
  total: number;
  hrefFor: (page: number) => string;
  noun: TPluralForms | string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <div className="pagination">
      <span>{total === 0 ? `No ${plural(0, noun)}` : `${formatNumber(first)}–${formatNumber(last)} of ${formatCount(total, noun)}`}</span>
      {pages > 1 ? (
        <nav aria-label="Pages">
          {page > 1 ? (
            <Link className="btn btn-sm" href={hrefFor(page - 1)} rel="prev">
              ← Previous
            </Link>
          ) : (
            <span className="btn btn-sm" aria-disabled="true">
              ← Previous
            </span>
          )}
          <span className="btn btn-sm btn-ghost" aria-current="page">
            Page {formatNumber(page)} of {formatNumber(pages)}
          </span>
          {page < pages ? (
            <Link className="btn btn-sm" href={hrefFor(page + 1)} rel="next">
              Next →
            </Link>
          ) : (
            <span className="btn btn-sm" aria-disabled="true">
              Next →
            </span>
          )}
        </nav>
      ) : null}
    </div>
  );
}
