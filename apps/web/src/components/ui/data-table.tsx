import type { HTMLAttributes, Key, ReactNode } from "react";

export type TColumn<Row> = {
  /** The column's name: its header, and the label of the cell when rows stack on phones. */
  header: string;
  /** What the header cell shows instead of the name (a sort link or button). */
  headerContent?: ReactNode;
  /** The header is for screen readers only (an actions column). */
  hideHeader?: boolean;
  cell: (row: Row) => ReactNode;
  /** `num` right-aligns with tabular digits; `nowrap` keeps the cell on one line. */
  className?: string;
  ariaSort?: "ascending" | "descending" | "none";
  /**
   * The card's title on phones: shown first, full width, without a label. Give it to the
   * column that names the row.
   */
  primary?: boolean;
};

/**
 * The dashboard's one table. On wide screens a plain table; under 640 px each row becomes a
 * card of label/value lines, so no column is cut off or scrolled out of sight (the header row
 * stays in the markup for screen readers). Cells that render nothing are left out of the card.
 */
export function DataTable<Row>({
  label,
  columns,
  rows,
  rowKey,
  rowProps,
  footer,
}: {
  label: string;
  columns: (TColumn<Row> | false | null | undefined)[];
  rows: Row[];
  rowKey: (row: Row) => Key;
  rowProps?: (row: Row) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | number | undefined>;
  footer?: ReactNode;
}) {
  const shown = columns.filter((c): c is TColumn<Row> => Boolean(c));
  return (
    // Focusable: a wide table scrolls sideways on narrow desktop windows, and keyboards must reach that.
    <div className="table-wrap" tabIndex={0} role="region" aria-label={`${label} table`}>
      {/* Explicit roles: the phone layout restyles rows as blocks, which must not cost the table its semantics. */}
      <table className="table data-table" aria-label={label} role="table">
        <thead role="rowgroup">
          <tr role="row">
            {shown.map((c) => (
              <th key={c.header} scope="col" role="columnheader" className={c.className} aria-sort={c.ariaSort}>
                {c.hideHeader ? <span className="sr-only">{c.header}</span> : (c.headerContent ?? c.header)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody role="rowgroup">
          {rows.map((row) => (
            <tr key={rowKey(row)} role="row" {...rowProps?.(row)}>
              {shown.map((c) => (
                <td
                  key={c.header}
                  role="cell"
                  className={[c.className, c.primary ? "cell-primary" : null].filter(Boolean).join(" ") || undefined}
                  data-label={c.primary || c.hideHeader ? undefined : c.header}
                >
                  <div className="cell">{c.cell(row)}</div>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {footer}
    </div>
  );
}
