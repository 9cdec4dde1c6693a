import type { LucideIcon } from "lucide-react";
import Link from "next/link";
import type { ReactNode } from "react";

/** The body of the not-found and forbidden pages: a card, nothing around it. */
export function StatusPage({ icon: Icon, title, children }: { icon: LucideIcon; title: string; children: ReactNode }) {
  return (
    <div className="status-page">
      <div className="card">
        <div className="card-body empty">
          <div className="empty-icon" aria-hidden="true">
            <Icon />
          </div>
          <h1>{title}</h1>
          <p>{children}</p>
          <Link className="btn btn-primary" href="/">
            Go to your projects
          </Link>
        </div>
      </div>
    </div>
  );
}
