import Link from "next/link";

/** A sortable column header: a link that sorts by it (toggling direction), with aria-sort. */
export function SortHeader({ label, column, current, dir, defaultDir, hrefFor, className }: {
  label: string;
  column: string;
  current: string;
  dir: "asc" | "desc" | undefined;
  defaultDir: "asc" | "desc";
  hrefFor: (sort: string, dir: "asc" | "desc") => string;
  className?: string;
}) {
  const active = current === column;
  const effective = active ? (dir ?? defaultDir) : undefined;
  const next = active ? (effective === "asc" ? "desc" : "asc") : defaultDir;
  return (
    <th scope="col" className={className} aria-sort={effective === "asc" ? "ascending" : effective === "desc" ? "descending" : "none"}>
      <Link href={hrefFor(column, next)}>
        {label}
        {effective ? <span className="sort-indicator" aria-hidden="true">{effective === "asc" ? "▲" : "▼"}</span> : null}
      </Link>
    </th>
  );
}
