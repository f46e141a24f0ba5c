import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { get, patch, post, qs } from "../api/client.ts";
import { openStream } from "../api/events.ts";
import { useCan } from "../api/session.tsx";
import type { ChatMessagePageT, ChatMessageT, ChatPageT, ChatT, ProjectPageT } from "../api/types.ts";
import { Badge, Empty, ErrorBox, Loading } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";
import { Message } from "./chat-message.tsx";

/**
 * Chat with the planner on a project: the project's chats (new, rename, archive) beside one chat's
 * messages, oldest at the top and newest at the bottom. A `plan` message shows the proposed plan
 * with Confirm / Confirm & run / Cancel (only for a role that may approve); a run's progress and
 * result come back into the chat. Live through the chat's own event stream; older messages are
 * read a page at a time (on scrolling to the top, or with "Load older").
 *
 * Everything a model wrote is shown as text or sanitised markdown, links only http(s).
 */
const PAGE = 50;

export default function ChatPage() {
  const { id } = useParams();
  const can = useCan();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => get<ProjectPageT>("/ops/projects?limit=200"),
  });
  const chat = useQuery({
    queryKey: ["chats", "one", id],
    enabled: !!id,
    queryFn: () => get<ChatT>(`/ops/chats/${id}`),
  });
  const project = params.get("project") ?? chat.data?.project_id ?? projects.data?.items[0]?.id ?? "";
  const chats = useQuery({
    queryKey: ["chats", "list", project],
    enabled: !!project,
    queryFn: () => get<ChatPageT>(`/ops/chats${qs({ project, limit: 100 })}`),
  });
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: () => post<ChatT>("/ops/chats", { project: project || undefined }),
    onSuccess: (made) => {
      void client.invalidateQueries({ queryKey: ["chats"] });
      navigate(`/chats/${made.id}`);
    },
  });

  return (
    <div className="page chat-page">
      <div className="page-head">
        <h1>Chat</h1>
      </div>
      <div className="chat-layout">
        <aside className="chat-list card" aria-label="Chats">
          <label>
            Project{" "}
            <select
              value={project}
              onChange={(e) => {
                setParams({ project: e.target.value });
                navigate(`/chats?project=${encodeURIComponent(e.target.value)}`);
              }}
            >
              {(projects.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          {can.operate ? (
            <button
              type="button"
              className="primary"
              disabled={create.isPending || !project}
              onClick={() => create.mutate()}
            >
              New chat
            </button>
          ) : null}
          <ErrorBox error={create.error ?? projects.error ?? chats.error} />
          {projects.data && projects.data.items.length === 0 ? (
            <p className="muted">No project yet: add one in the set-up.</p>
          ) : chats.isLoading ? (
            <Loading what="Loading chats" />
          ) : chats.data?.items.length === 0 ? (
            <p className="muted">No chat on this project yet.</p>
          ) : (
            <ul>
              {(chats.data?.items ?? []).map((c) => (
                <li key={c.id}>
                  <Link
                    to={`/chats/${c.id}`}
                    aria-current={c.id === id ? "page" : undefined}
                    className={c.id === id ? "chat-link current" : "chat-link"}
                  >
                    <span className="chat-title">{c.title}</span>
                    <span className="muted small">
                      <Time iso={c.updated_at} />
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </aside>
        <section className="chat-main" aria-label="Conversation">
          {!id ? (
            <Empty title="No chat open">
              <p>Pick a chat, or start a new one to ask the planner for a change.</p>
            </Empty>
          ) : chat.isLoading ? (
            <Loading what="Loading the chat" />
          ) : chat.error ? (
            <ErrorBox error={chat.error} />
          ) : chat.data ? (
            <Conversation key={chat.data.id} chat={chat.data} />
          ) : null}
        </section>
      </div>
    </div>
  );
}

function ChatHeader({ chat }: { chat: ChatT }) {
  const can = useCan();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(chat.title);
  const change = useMutation({
    mutationFn: (body: { title?: string; archived?: boolean }) => patch<ChatT>(`/ops/chats/${chat.id}`, body),
    onSuccess: (next) => {
      client.setQueryData(["chats", "one", chat.id], next);
      void client.invalidateQueries({ queryKey: ["chats", "list"] });
      setEditing(false);
      if (next.archived) navigate(`/chats?project=${encodeURIComponent(next.project_id)}`);
    },
  });
  return (
    <div className="chat-head">
      {editing ? (
        <form
          className="row"
          aria-label="Rename the chat"
          onSubmit={(e) => {
            e.preventDefault();
            change.mutate({ title: title.trim() });
          }}
        >
          <label>
            <span className="sr-only">Chat title</span>
            <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required />
          </label>
          <button type="submit" className="primary" disabled={change.isPending || !title.trim()}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <h2 className="chat-name">{chat.title}</h2>
      )}
      {can.operate && !editing ? (
        <div className="row">
          <button
            type="button"
            onClick={() => {
              setTitle(chat.title);
              setEditing(true);
            }}
          >
            Rename
          </button>
          <button
            type="button"
            disabled={change.isPending}
            onClick={() => change.mutate({ archived: !chat.archived })}
          >
            {chat.archived ? "Unarchive" : "Archive"}
          </button>
        </div>
      ) : null}
      {chat.archived ? <Badge status="archived" /> : null}
      <ErrorBox error={change.error} />
    </div>
  );
}

/** The messages of one chat, kept by id and shown in time order. */
function byTime(a: ChatMessageT, b: ChatMessageT): number {
  return a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1;
}

function Conversation({ chat }: { chat: ChatT }) {
  const can = useCan();
  const [messages, setMessages] = useState<Map<string, ChatMessageT>>(new Map());
  const [older, setOlder] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const scroller = useRef<HTMLElement>(null);
  const stick = useRef(true);
  const keepFrom = useRef<number | null>(null);

  const merge = useCallback((items: ChatMessageT[]) => {
    setMessages((prev) => {
      const next = new Map(prev);
      for (const m of items) next.set(m.id, m);
      return next;
    });
  }, []);

  const refreshNewest = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const page = await get<ChatMessagePageT>(
          `/ops/chats/${chat.id}/messages${qs({ order: "desc", limit: PAGE })}`,
          signal,
        );
        merge(page.items);
        setLoaded((was) => {
          if (!was) setOlder(page.next_cursor);
          return true;
        });
        setError(null);
      } catch (e) {
        if ((e as Error).name !== "AbortError") setError(e);
      }
    },
    [chat.id, merge],
  );

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    openStream(`/ops/chats/${chat.id}/events`, abort.signal, {
      onOpen: () => void refreshNewest(abort.signal),
      onEvent(event) {
        if (event.type !== "chat.message") return;
        timer ??= setTimeout(() => {
          timer = undefined;
          void refreshNewest(abort.signal);
        }, 150);
      },
    });
    void refreshNewest(abort.signal);
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [chat.id, refreshNewest]);

  const loadOlder = useCallback(async () => {
    if (!older || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await get<ChatMessagePageT>(
        `/ops/chats/${chat.id}/messages${qs({ order: "desc", limit: PAGE, cursor: older })}`,
      );
      const el = scroller.current;
      keepFrom.current = el ? el.scrollHeight - el.scrollTop : null;
      merge(page.items);
      setOlder(page.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingOlder(false);
    }
  }, [chat.id, older, loadingOlder, merge]);

  const list = useMemo(() => [...messages.values()].sort(byTime), [messages]);

  // Newest at the bottom: follow new messages while the reader is at the bottom; keep the place
  // when older ones are put above.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the list changes
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (keepFrom.current !== null) {
      el.scrollTop = el.scrollHeight - keepFrom.current;
      keepFrom.current = null;
    } else if (stick.current) el.scrollTop = el.scrollHeight;
  }, [list]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 40 && older && !loadingOlder && loaded) void loadOlder();
  };

  // The plan the buttons act on: the newest plan message with no answer after it that settled it.
  const pendingPlan = useMemo(() => {
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i];
      if (!m) continue;
      if (m.kind === "answer" && ["approved", "cancelled"].includes(String(m.data?.outcome))) return null;
      if (m.kind === "plan") return m.id;
    }
    return null;
  }, [list]);

  return (
    <div className="chat-thread">
      <ChatHeader chat={chat} />
      <ErrorBox error={error} />
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <section className="messages" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label="Messages">
        {older ? (
          <div className="load-older">
            <button type="button" onClick={() => void loadOlder()} disabled={loadingOlder}>
              {loadingOlder ? "Loading…" : "Load older messages"}
            </button>
          </div>
        ) : null}
        {!loaded ? (
          <Loading what="Loading messages" />
        ) : list.length === 0 ? (
          <Empty title="No messages yet">
            <p>Describe a change; the planner answers and may propose a plan to confirm.</p>
          </Empty>
        ) : (
          <ol className="message-list" aria-live="polite" aria-relevant="additions">
            {list.map((m) => (
              <li key={m.id} className={`msg msg-${m.role} msg-kind-${m.kind}`}>
                <Message message={m} chatId={chat.id} pending={m.id === pendingPlan} />
              </li>
            ))}
          </ol>
        )}
      </section>
      {can.operate && !chat.archived ? (
        <Composer chatId={chat.id} onSent={merge} />
      ) : chat.archived ? (
        <p className="muted">This chat is archived: unarchive it to write in it.</p>
      ) : (
        <p className="muted">Your role can read this chat but not write in it.</p>
      )}
    </div>
  );
}

function Composer({ chatId, onSent }: { chatId: string; onSent: (items: ChatMessageT[]) => void }) {
  const [text, setText] = useState("");
  const send = useMutation({
    mutationFn: (body: string) =>
      post<{ messages: ChatMessageT[] }>(`/ops/chats/${chatId}/messages`, { text: body }),
    onSuccess: (reply) => {
      onSent(reply.messages);
      setText("");
    },
  });
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (text.trim() && !send.isPending) send.mutate(text.trim());
  };
  return (
    <form className="composer" aria-label="Send a message" onSubmit={submit}>
      <label htmlFor="chat-text" className="sr-only">
        Message
      </label>
      <textarea
        id="chat-text"
        rows={3}
        value={text}
        maxLength={8000}
        placeholder="Describe a change, ask about a run… (Ctrl+Enter sends)"
        disabled={send.isPending}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
        }}
      />
      <div className="row">
        <button type="submit" className="primary" disabled={send.isPending || !text.trim()}>
          {send.isPending ? "Sending…" : "Send"}
        </button>
        {send.isPending ? (
          <span className="muted" role="status">
            The planner is thinking…
          </span>
        ) : null}
      </div>
      <ErrorBox error={send.error} />
    </form>
  );
}
