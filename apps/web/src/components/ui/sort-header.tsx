import Link from "next/link";

/** Sort state of one column: its aria-sort and a link that sorts by it (toggling direction). */
export function sortColumn({
  label,
  column,
  current,
  dir,
  defaultDir,
  hrefFor,
}: {
  label: string;
  column: string;
  current: string;
  dir: "asc" | "desc" | undefined;
  defaultDir: "asc" | "desc";
  hrefFor: (sort: string, dir: "asc" | "desc") => string;
}) {
  const active = current === column;
  const effective = active ? (dir ?? defaultDir) : undefined;
  const next = active ? (effective === "asc" ? "desc" : "asc") : defaultDir;
  return {
    ariaSort: effective === "asc" ? ("ascending" as const) : effective === "desc" ? ("descending" as const) : ("none" as const),
    headerContent: (
      <Link href={hrefFor(column, next)}>
        {label}
        {effective ? (
          <span className="sort-indicator" aria-hidden="true">
            {effective === "asc" ? "▲" : "▼"}
          </span>
        ) : null}
      </Link>
    ),
  };
}
