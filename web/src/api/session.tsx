import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { api, configureClient } from "./client.ts";
import type { Role, WhoAmI } from "./types.ts";

/**
 * The signed-in session: the token (kept in `sessionStorage`, so it is gone with the tab) and who
 * it is (`GET /ops/whoami`). The UI hides what the role may not do — the server enforces it anyway.
 */
const KEY = "gimo.session";

export interface Session {
  token: string;
  who: WhoAmI;
}

interface SessionApi {
  session: Session | null;
  signIn(token: string): Promise<Session>;
  signOut(): void;
}

const Ctx = createContext<SessionApi | null>(null);

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [session, setSession] = useState<Session | null>(() => {
    const s = load();
    configureClient(s?.token ?? null, () => {});
    return s;
  });
  const signOut = useCallback(() => {
    sessionStorage.removeItem(KEY);
    configureClient(null, () => {});
    client.clear();
    setSession(null);
  }, [client]);
  configureClient(session?.token ?? null, signOut);
  const signIn = useCallback(
    async (token: string) => {
      const who = await api<WhoAmI>("GET", "/ops/whoami", undefined, { token });
      if (who.role === "runner")
        throw new Error("a runner token cannot use the web UI: sign in with a person's token");
      const next = { token, who };
      sessionStorage.setItem(KEY, JSON.stringify(next));
      configureClient(token, signOut);
      client.clear();
      setSession(next);
      return next;
    },
    [client, signOut],
  );
  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionApi {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}

/** What the signed-in role may do (core/roles.ts, mirrored for display only). */
export function useCan(): { operate: boolean; admin: boolean; role: Role | null } {
  const role = useSession().session?.who.role ?? null;
  return { role, operate: role === "operator" || role === "admin", admin: role === "admin" };
}
