/**
 * A date filter typed as an ISO date (yyyy-mm-dd), the format every date in the dashboard
 * uses. A native date input would show the browser's locale format (mm/dd/yyyy in en-US).
 * Dates are whole UTC days, as every time shown is UTC.
 */
export function DateField({ name, label, defaultValue }: { name: string; label: string; defaultValue?: string }) {
  const id = `filter-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        placeholder="yyyy-mm-dd"
        pattern="\d{4}-\d{2}-\d{2}"
        title="A date as yyyy-mm-dd (UTC), e.g. 2026-11-23"
        aria-describedby={`${id}-hint`}
        defaultValue={defaultValue ?? ""}
        size={11}
      />
      <span id={`${id}-hint`} className="sr-only">
        Format yyyy-mm-dd, a UTC day
      </span>
    </div>
  );
}
