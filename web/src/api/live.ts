import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { openStream } from "./events.ts";
import { useSession } from "./session.tsx";

/**
 * Keeps every page live: one stream of `/ops/events` for the session; each event marks the cached
 * answers it may have changed as stale (TanStack Query refetches those on screen). Bursts are
 * coalesced into one refresh per 250 ms.
 */
export type LiveState = "connecting" | "live" | "reconnecting" | "closed";

export function useLiveUpdates(): LiveState {
  const client = useQueryClient();
  const { session } = useSession();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!session) return;
    const abort = new AbortController();
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const kinds = [...pending];
      pending.clear();
      for (const kind of kinds) void client.invalidateQueries({ queryKey: [kind] });
    };
    openStream("/ops/events", abort.signal, {
      onState: (s) => setState(s),
      onEvent(event) {
        const family = event.type.split(".")[0] ?? "";
        for (const key of KEYS_BY_FAMILY[family] ?? ["status"]) pending.add(key);
        pending.add("audit");
        timer ??= setTimeout(flush, 250);
      },
    });
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [client, session]);
  return state;
}

/** Which cached answers (query key roots) an event family can change. */
const KEYS_BY_FAMILY: Record<string, string[]> = {
  task: ["tasks", "task", "status"],
  draft: ["tasks", "task", "drafts", "status", "metrics"],
  run: ["tasks", "task", "runs", "run", "status", "metrics", "runners"],
  runner: ["runners", "metrics", "status"],
  panic: ["panic", "status"],
  project: ["projects"],
  plan: ["projects"],
  provider: ["providers", "requests"],
  credential: ["requests"],
  token: ["tokens"],
  chat: ["chats"],
};
