import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import { NavLink, useLocation } from "react-router";
import { get } from "../api/client.ts";
import { useLiveUpdates } from "../api/live.ts";
import { useCan, useSession } from "../api/session.tsx";
import type { Panic } from "../api/types.ts";
import { Time } from "./time.tsx";

/**
 * The frame of every page: a skip link, the navigation (only what the role may use), the live
 * indicator, the theme switch, and — while panic mode is on — a banner with its reason across the
 * whole UI.
 */
export function Layout({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const can = useCan();
  const live = useLiveUpdates();
  const panic = useQuery({
    queryKey: ["panic"],
    queryFn: () => get<Panic>("/ops/panic"),
    refetchInterval: 30_000,
  });
  const [menu, setMenu] = useState(false);
  const { pathname } = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: close the phone menu on navigation
  useEffect(() => setMenu(false), [pathname]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="GIMO board">
          <span aria-hidden="true" className="logo">
            ✚
          </span>{" "}
          GIMO
        </NavLink>
        <button
          type="button"
          className="menu-btn"
          aria-expanded={menu}
          aria-controls="nav"
          onClick={() => setMenu((m) => !m)}
        >
          Menu
        </button>
        <nav id="nav" aria-label="Main" className={menu ? "open" : ""}>
          <NavLink to="/" end>
            Board
          </NavLink>
          {can.operate ? <NavLink to="/tasks/new">New task</NavLink> : null}
          <NavLink to="/chats">Chat</NavLink>
          <NavLink to="/runners">Runners</NavLink>
          {can.admin ? <NavLink to="/audit">Audit</NavLink> : null}
          {can.admin ? <NavLink to="/settings">Settings</NavLink> : null}
        </nav>
        <div className="session">
          <span className={`live live-${live}`} title={`Event stream: ${live}`}>
            <span aria-hidden="true">●</span> {live === "live" ? "live" : live}
          </span>
          <span className="who" title={session?.who.actor}>
            {session?.who.actor} · <strong>{session?.who.role}</strong>
          </span>
          <ThemeSwitch />
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {panic.data?.on ? (
        <div className="panic-banner" role="alert">
          <strong>Panic mode is on</strong> — every change is refused and runners claim nothing.
          {panic.data.reason ? <> Reason: “{panic.data.reason}”.</> : null}{" "}
          {panic.data.since ? (
            <>
              Since <Time iso={panic.data.since} />
              {panic.data.by ? <> by {panic.data.by}</> : null}.
            </>
          ) : null}
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

type Theme = "light" | "dark" | "system";

function ThemeSwitch() {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem("gimo.theme") as Theme | null) ?? "system",
  );
  useEffect(() => {
    localStorage.setItem("gimo.theme", theme);
    if (theme === "system") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
  }, [theme]);
  const next: Record<Theme, Theme> = { system: "dark", dark: "light", light: "system" };
  return (
    <button type="button" onClick={() => setTheme(next[theme])} aria-label={`Theme: ${theme}. Switch theme`}>
      {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"} <span className="sr-only">{theme}</span>
    </button>
  );
}
