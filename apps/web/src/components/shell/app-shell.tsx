"use client";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { signOut } from "next-auth/react";
import {
  ArrowDownToLine,
  CircleUser,
  Database,
  FolderKanban,
  KeyRound,
  LogOut,
  Menu,
  ScrollText,
  ShieldCheck,
  Users,
  Bot,
  ChartColumn,
  Waypoints,
  Webhook,
  Archive,
  type LucideIcon,
} from "lucide-react";
import { LAST_PROJECT_COOKIE } from "@/lib/last-project";
import { hasRole, type TRole } from "@/lib/roles";

type TProjectItem = { slug: string; name: string; role: TRole };

export function AppShell({
  user,
  projects,
  lastProject,
  children,
}: {
  user: { name: string; email: string; isAdmin: boolean };
  projects: TProjectItem[];
  lastProject: string | null;
  children: ReactNode;
}) {
  const params = useParams<{ project?: string }>();
  const pathname = usePathname();
  const router = useRouter();
  const [navOpen, setNavOpen] = useState(false);
  // Navigating closes the menu (adjusted while rendering: no extra effect pass).
  const [navPath, setNavPath] = useState(pathname);
  if (navPath !== pathname) {
    setNavPath(pathname);
    setNavOpen(false);
  }
  useEffect(() => {
    if (!navOpen) return;
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setNavOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navOpen]);

  const inProject = projects.find((p) => p.slug === params.project) ?? null;
  // Outside a project the navigation stays: it shows the last project visited (or the first).
  const current = inProject ?? (params.project ? null : (projects.find((p) => p.slug === lastProject) ?? projects[0] ?? null));
  useEffect(() => {
    if (inProject) document.cookie = `${LAST_PROJECT_COOKIE}=${encodeURIComponent(inProject.slug)}; path=/; max-age=31536000; samesite=lax`;
  }, [inProject]);
  const base = current ? `/p/${current.slug}` : null;
  const link = (href: string, label: string, Icon: LucideIcon, exact = false) => {
    const active = exact ? pathname === href : pathname === href || pathname.startsWith(`${href}/`);
    return (
      <Link href={href} aria-current={active ? "page" : undefined}>
        <Icon className="nav-icon" aria-hidden="true" />
        {label}
      </Link>
    );
  };

  const sidebar = (
    <aside className="sidebar" id="sidebar" aria-label="Main navigation">
      <Link href="/" className="brand">
        <span className="brand-mark" aria-hidden="true">
          <ArrowDownToLine size={16} />
        </span>{" "}
        Fleetdrop
      </Link>
      {projects.length > 0 ? (
        <div>
          <label className="sidebar-label" htmlFor="project-switcher">
            Project
          </label>
          <select
            id="project-switcher"
            value={current?.slug ?? ""}
            onChange={(event) => event.target.value && router.push(`/p/${event.target.value}`)}
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
          {link(base, "Overview", ChartColumn, true)}
          {link(`${base}/sessions`, "Sessions", FolderKanban)}
          {link(`${base}/devices`, "Devices", Bot)}
          {link(`${base}/members`, "Members", Users)}
          {hasRole(current.role, "admin") ? link(`${base}/stores`, "Stores", Database) : null}
          {hasRole(current.role, "admin") ? link(`${base}/streams`, "Chunk streams", Waypoints) : null}
          {hasRole(current.role, "admin") ? link(`${base}/api-tokens`, "API tokens", KeyRound) : null}
          {hasRole(current.role, "admin") ? link(`${base}/webhooks`, "Webhooks", Webhook) : null}
          {hasRole(current.role, "admin") ? link(`${base}/retention`, "Retention", Archive) : null}
          {hasRole(current.role, "admin") ? link(`${base}/audit`, "Audit log", ScrollText) : null}
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
          {link("/account", "Account", CircleUser, true)}
          {user.isAdmin ? link("/admin", "Administration", ShieldCheck) : null}
        </nav>
        <button type="button" className="linklike" onClick={() => void signOut({ callbackUrl: "/sign-in" })}>
          <LogOut className="nav-icon" aria-hidden="true" />
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
            <Menu className="icon" aria-hidden="true" /> <span className="sr-only">Menu</span>
          </button>
          <Link href="/" className="brand">
            Fleetdrop
          </Link>
          {current ? <span style={{ color: "#9fb0c6" }}>{current.name}</span> : null}
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
