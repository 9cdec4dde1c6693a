"use client";
import { TriangleAlert } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="card">
      <EmptyState
        icon={TriangleAlert}
        title="Something went wrong"
        action={
          <button type="button" className="btn btn-primary" onClick={reset}>
            Try again
          </button>
        }
      >
        The page could not be loaded. If it keeps happening, tell your administrator{error.digest ? ` (reference ${error.digest})` : ""}.
      </EmptyState>
    </div>
  );
}
