import Link from "next/link";

export default function NotFound() {
  return (
    <div className="auth-page">
      <div className="card auth-card">
        <div className="card-body empty">
          <div className="empty-icon" aria-hidden="true">🔎</div>
          <h1>Not found</h1>
          <p>This page does not exist, or you do not have access to it.</p>
          <Link className="btn btn-primary" href="/">Go to your projects</Link>
        </div>
      </div>
    </div>
  );
}
