/** What a page shows while its data loads (loading.tsx files render it). */
export function PageSkeleton() {
  return (
    <div aria-busy="true" aria-live="polite">
      <span className="sr-only">Loading…</span>
      <div className="skeleton" style={{ height: 18, width: 220, marginBottom: 12 }} />
      <div className="skeleton" style={{ height: 28, width: 320, marginBottom: 24 }} />
      <div className="card">
        {Array.from({ length: 8 }, (_, i) => (
          <div key={i} className="skeleton" style={{ height: 22, margin: 14 }} />
        ))}
      </div>
    </div>
  );
}
