import Link from "next/link";

/** The Apply / Clear buttons of a list's filter form (Clear only while a filter is on). */
export function FilterActions({ filtered, clearHref }: { filtered: boolean; clearHref: string }) {
  return (
    <div className="actions">
      <button type="submit" className="btn btn-primary">
        Apply
      </button>
      {filtered ? (
        <Link className="btn btn-ghost" href={clearHref}>
          Clear
        </Link>
      ) : null}
    </div>
  );
}
