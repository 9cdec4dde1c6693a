"use client";

/** Last resort when the root layout itself fails: a plain page with a way back. */
export default function GlobalError({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", display: "grid", placeItems: "center", minHeight: "100vh", margin: 0 }}>
        <main style={{ textAlign: "center", maxWidth: 420, padding: 16 }}>
          <h1>Fleetdrop could not load</h1>
          <p>Something went wrong on our side. Try again in a moment.</p>
          <button type="button" onClick={reset} style={{ padding: "8px 16px", fontSize: 14 }}>
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
