"use client";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { signOut } from "next-auth/react";
import { hasRole, type TRole } from "@/lib/roles";

type TProjectItem = { slug: string; name: string; role: TRole };

export function AppShell({ user, projects, children }: { user: { name: string; email: string; isAdmin: boolean }; projects: TProjectItem[]; children: ReactNode }) {
  const params = useParams<{ project?: string }>();
  const pathname = usePathname();
  const router = useRouter();
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [pathname]);
  useEffect(() => {
    if (!navOpen) return;
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setNavOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navOpen]);

  const current = projects.find((p) => p.slug === params.project) ?? null;
  const base = current ? `/p/${current.slug}` : null;
  const link = (href: string, label: string, icon: string, exact = false) => {
    const active = exact ? pathname === href : pathname === href || pathname.startsWith(`${href}/`);
    return (
      <Link href={href} aria-current={active ? "page" : undefined}>
        <span className="nav-icon" aria-hidden="true">{icon}</span>
        {label}
      </Link>
    );
  };

  const sidebar = (
    <aside className="sidebar" id="sidebar" aria-label="Main navigation">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden="true">⇣</span> Fleetdrop
      </Link>
      {projects.length > 0 ? (
        <div>
          <label className="sidebar-label" htmlFor="project-switcher">
            Project
          </label>
          <select
            id="project-switcher"
            value={current?.slug ?? ""}
            onChange={(event) => event.target.value && router.push(`/p/${event.target.value}/sessions`)}
          >
            {!current ? <option value="">Choose a project…</option> : null}
            {projects.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {base && current ? (
        <nav className="nav" aria-label="Project">
          {link(`${base}/sessions`, "Sessions", "▤")}
          {link(`${base}/devices`, "Devices", "⚙")}
          {link(`${base}/members`, "Members", "☺")}
          {hasRole(current.role, "admin") ? link(`${base}/stores`, "Stores", "🗄") : null}
          {hasRole(current.role, "admin") ? link(`${base}/streams`, "Chunk streams", "📡") : null}
          {hasRole(current.role, "admin") ? link(`${base}/audit`, "Audit log", "☰") : null}
        </nav>
      ) : null}
      <div className="sidebar-footer">
        <div className="sidebar-user">
          Signed in as <strong>{user.name}</strong>
          <br />
          {user.email}
          {current ? <> · {current.role}</> : null}
        </div>
        <nav className="nav" aria-label="Account">
          {link("/account", "Account", "◎", true)}
          {user.isAdmin ? link("/admin", "Administration", "★") : null}
        </nav>
        <button type="button" className="linklike" onClick={() => void signOut({ callbackUrl: "/sign-in" })}>
          <span className="nav-icon" aria-hidden="true">⎋</span>
          Sign out
        </button>
      </div>
    </aside>
  );

  return (
    <div className="shell" data-nav-open={navOpen}>
      {sidebar}
      <div className="main">
        <header className="topbar">
          <button type="button" aria-controls="sidebar" aria-expanded={navOpen} onClick={() => setNavOpen((o) => !o)}>
            ☰ <span className="sr-only">Menu</span>
          </button>
          <Link href="/" className="brand">
            Fleetdrop
          </Link>
          {current ? <span className="muted" style={{ color: "#9fb0c6" }}>{current.name}</span> : null}
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
