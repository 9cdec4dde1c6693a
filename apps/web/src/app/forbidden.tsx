import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="auth-page">
      <div className="card auth-card">
        <div className="card-body empty">
          <div className="empty-icon" aria-hidden="true">🔒</div>
          <h1>You can’t do this here</h1>
          <p>Your role in this project does not include this page. A project owner can change your role.</p>
          <Link className="btn btn-primary" href="/">Go to your projects</Link>
        </div>
      </div>
    </div>
  );
}
