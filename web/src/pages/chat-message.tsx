import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { post } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { ChatAnswerT, ChatMessageT, PlanContent } from "../api/types.ts";
import { Markdown } from "../ui/markdown.tsx";
import { SafeLink } from "../ui/safe-link.tsx";
import { Badge, ErrorBox } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";

/**
 * One chat message, drawn by its kind: people's text as text, the planner's as sanitised
 * markdown, a proposed plan with Confirm / Confirm & run / Cancel (for a role that may approve,
 * on the pending plan only), a run's progress as one line and its result with the branch link
 * (http(s) only). The server's answer to a confirm (`outcome`) is shown as a notice.
 */
const OUTCOMES: Record<string, string> = {
  approved: "Approved.",
  cancelled: "Cancelled.",
  nothing_pending: "There is no plan waiting for an answer.",
  already_approved: "This plan was already approved.",
  already_running: "A run of this task is already active.",
  superseded: "A newer revision of this plan replaced it.",
  not_allowed: "Your role may not do that.",
  distinct_approver_required: "Another person must approve this plan.",
  refused: "The project cannot take this run now; nothing was approved.",
};

export function Message({
  message: m,
  chatId,
  pending,
}: {
  message: ChatMessageT;
  chatId: string;
  pending: boolean;
}) {
  const data = (m.data ?? {}) as Record<string, unknown>;
  const who = m.role === "user" ? m.author : m.role === "assistant" ? "planner" : "GIMO";
  return (
    <article aria-label={`${who}: ${m.kind}`}>
      <div className="msg-meta muted small">
        <strong>{who}</strong> · <Time iso={m.created_at} />
        {m.kind !== "text" ? <span className={`kind kind-msg-${m.kind}`}>{m.kind}</span> : null}
      </div>
      {m.kind === "plan" && data.plan ? (
        <PlanMessage
          plan={data.plan as PlanContent}
          rev={Number(data.rev ?? 1)}
          draftId={String(data.draft_id ?? "")}
          taskId={String(data.task_id ?? "")}
          chatId={chatId}
          pending={pending}
        />
      ) : m.kind === "result" || m.kind === "progress" || m.kind === "error" ? (
        <RunMessage message={m} data={data} />
      ) : m.kind === "answer" ? (
        <p className="notice" role="note">
          {OUTCOMES[String(data.outcome)] ?? null} <span className="pre-wrap">{m.text}</span>
          {typeof data.run_id === "string" ? (
            <>
              {" "}
              <Link to={`/runs/${data.run_id}`}>Open run {data.run_id}</Link>
            </>
          ) : null}
        </p>
      ) : m.role === "assistant" ? (
        <Markdown text={m.text} />
      ) : (
        <p className="pre-wrap">{m.text}</p>
      )}
    </article>
  );
}

function RunMessage({ message: m, data }: { message: ChatMessageT; data: Record<string, unknown> }) {
  const runId = typeof data.run_id === "string" ? data.run_id : null;
  const status = typeof data.status === "string" ? data.status : null;
  const files = Array.isArray(data.files_changed) ? (data.files_changed as unknown[]).map(String) : [];
  return (
    <div className={m.kind === "error" ? "error" : ""}>
      <p className="pre-wrap">
        {status && m.kind !== "progress" ? (
          <>
            <Badge status={status} />{" "}
          </>
        ) : null}
        {m.kind === "result" ? m.text.split("\n")[0] : m.text}
      </p>
      {m.kind === "result" ? (
        <ul className="result-facts">
          {typeof data.branch === "string" ? (
            <li>
              Branch:{" "}
              {typeof data.link === "string" ? (
                <SafeLink href={data.link}>{data.branch}</SafeLink>
              ) : (
                <code>{data.branch}</code>
              )}
            </li>
          ) : null}
          {typeof data.pull_request === "string" ? (
            <li>
              Pull request: <SafeLink href={data.pull_request} />
            </li>
          ) : null}
          {files.length ? (
            <li>
              Files changed:{" "}
              {files.map((f, i) => (
                <span key={f}>
                  {i ? ", " : ""}
                  <code>{f}</code>
                </span>
              ))}
            </li>
          ) : null}
        </ul>
      ) : null}
      {runId && (m.kind !== "progress" || data.event === "run.started") ? (
        <p className="small">
          <Link to={`/runs/${runId}`}>Open run {runId}</Link>
        </p>
      ) : null}
    </div>
  );
}

function PlanMessage(props: {
  plan: PlanContent;
  rev: number;
  draftId: string;
  taskId: string;
  chatId: string;
  pending: boolean;
}) {
  const { plan, rev, draftId, taskId, chatId, pending } = props;
  const can = useCan();
  const [notice, setNotice] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: (what: "confirm" | "run" | "cancel") =>
      what === "cancel"
        ? post<ChatAnswerT>(`/ops/chats/${chatId}/cancel`, { draft_id: draftId })
        : post<ChatAnswerT>(`/ops/chats/${chatId}/confirm`, { draft_id: draftId, run: what === "run" }),
    onSuccess: (answer) => setNotice(OUTCOMES[answer.outcome] ?? answer.outcome),
  });
  return (
    <div className="chat-plan">
      <p className="muted small">
        Proposed plan · revision {rev}
        {taskId ? (
          <>
            {" "}
            · <Link to={`/tasks/${taskId}`}>open the task</Link>
          </>
        ) : null}
      </p>
      <h3 className="plan-title">{plan.title}</h3>
      {plan.summary ? <Markdown text={plan.summary} /> : null}
      <ol className="steps">
        {(plan.steps ?? []).map((s) => (
          <li key={s.id}>
            <span className={`kind kind-${s.kind}`}>{s.kind}</span> {s.title}
          </li>
        ))}
      </ol>
      {can.operate && pending ? (
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={act.isPending}
            onClick={() => act.mutate("run")}
          >
            Confirm &amp; run
          </button>
          <button type="button" disabled={act.isPending} onClick={() => act.mutate("confirm")}>
            Confirm
          </button>
          <button type="button" disabled={act.isPending} onClick={() => act.mutate("cancel")}>
            Cancel
          </button>
        </div>
      ) : null}
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorBox error={act.error} />
    </div>
  );
}
