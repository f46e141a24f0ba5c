import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createTwoFilesPatch } from "diff";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { get, post, put } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { Draft, PlanContent, Project, Run, TaskDetailT } from "../api/types.ts";
import { CopyId } from "../ui/copy.tsx";
import { DiffView } from "../ui/diff-view.tsx";
import { SafeLink } from "../ui/safe-link.tsx";
import { Badge, Empty, ErrorBox, Loading } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";
import { ApproveDialog, RejectButton, ReviseForm } from "./draft-actions.tsx";
import { PlanEditor } from "./plan-editor.tsx";
import { PlanView, planText } from "./plan-view.tsx";
import { VerifiedBadge } from "./run-verification.tsx";

/**
 * A task: its prompt, its plan revisions and what became of them. While the latest revision is a
 * draft, an operator can edit it (steps or raw JSON), revise it with feedback, approve it or reject
 * it. Approval shows the content hash of exactly the plan on screen and sends it along: the server
 * refuses when the draft changed since. Nothing here starts a run from an unapproved draft — runs
 * are started only from approved snapshots (`a_…`).
 */
export default function TaskPage() {
  const { id = "" } = useParams();
  const can = useCan();
  const task = useQuery({ queryKey: ["task", id], queryFn: () => get<TaskDetailT>(`/ops/tasks/${id}`) });
  const project = useQuery({
    queryKey: ["projects", task.data?.project_id],
    enabled: !!task.data,
    queryFn: () => get<Project>(`/ops/projects/${task.data?.project_id}`),
  });
  if (task.isPending) return <Loading what="Loading task" />;
  if (task.error) return <ErrorBox error={task.error} />;
  const t = task.data;
  const drafts = t.drafts;
  const latest = drafts[drafts.length - 1];
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link to="/">Board</Link> / task
          </p>
          <h1 className="task-title">{latest?.plan?.title ?? firstLine(t.prompt)}</h1>
          <div className="meta-row">
            <Badge status={t.status} /> <CopyId value={t.id} label="task id" />
            {project.data ? <span className="muted">{project.data.name}</span> : null}
            <span className="muted">
              by {t.created_by}, <Time iso={t.created_at} />
            </span>
            {t.link ? (
              <SafeLink href={t.link}>branch {t.branch}</SafeLink>
            ) : t.branch ? (
              <code>{t.branch}</code>
            ) : null}
          </div>
        </div>
      </div>
      <section className="card">
        <h2>Prompt</h2>
        <p className="pre-wrap">{t.prompt}</p>
      </section>
      {latest ? (
        <DraftPanel key={latest.id} draft={latest} canOperate={can.operate} />
      ) : (
        <Empty title="No draft yet" />
      )}
      {drafts.length > 1 ? <RevisionDiff drafts={drafts} /> : null}
      <Runs runs={t.runs} approvedIds={t.approved.map((a) => a.id)} canOperate={can.operate} />
      {t.approved.length ? (
        <section className="card">
          <h2>Approvals</h2>
          <ul className="plain">
            {t.approved.map((a) => (
              <li key={a.id}>
                <CopyId value={a.id} label="approved id" /> rev{" "}
                {drafts.find((d) => d.id === a.draft_id)?.rev ?? "?"} approved by {a.approved_by}{" "}
                <Time iso={a.approved_at} /> · <code className="hash">{a.content_hash}</code>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.slice(0, 140) ?? "";
}

function DraftPanel({ draft, canOperate }: { draft: Draft; canOperate: boolean }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const refresh = () => client.invalidateQueries({ queryKey: ["task"] });
  const save = useMutation({
    mutationFn: (plan: PlanContent) => put<Draft>(`/ops/drafts/${draft.id}`, { plan }),
    onSuccess: () => {
      setEditing(false);
      void refresh();
    },
  });
  const editable = draft.status === "draft" && canOperate;
  return (
    <section className="card" aria-labelledby="draft-h">
      <div className="section-head">
        <h2 id="draft-h">
          Plan · revision {draft.rev} <Badge status={draft.status} />
        </h2>
        <CopyId value={draft.id} label="draft id" />
      </div>
      {draft.status === "generating" ? (
        <p className="muted" role="status">
          The planner is writing this revision… it appears here when done.
        </p>
      ) : null}
      {draft.error ? <ErrorBox error={new Error(draft.error)} /> : null}
      {draft.plan && editing ? (
        <PlanEditor
          initial={draft.plan}
          saving={save.isPending}
          onCancel={() => setEditing(false)}
          onSave={(plan) => save.mutate(plan)}
        />
      ) : draft.plan ? (
        <PlanView plan={draft.plan} />
      ) : null}
      <ErrorBox error={save.error} />
      {editable && draft.plan && !editing ? (
        <div className="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit plan
          </button>
          <ApproveDialog draft={draft} />
          <RejectButton draft={draft} />
        </div>
      ) : null}
      {editable && !editing ? <ReviseForm draft={draft} /> : null}
    </section>
  );
}

function RevisionDiff({ drafts }: { drafts: Draft[] }) {
  const withPlan = drafts.filter((d) => d.plan);
  // Until the user picks, compare the two newest revisions that have a plan (a new one may still
  // be generating when this first renders).
  const [picked, setPicked] = useState<{ from: number; to: number } | null>(null);
  const from = picked?.from ?? withPlan[withPlan.length - 2]?.rev ?? 1;
  const to = picked?.to ?? withPlan[withPlan.length - 1]?.rev ?? 1;
  const setFrom = (rev: number) => setPicked({ from: rev, to });
  const setTo = (rev: number) => setPicked({ from, to: rev });
  const a = drafts.find((d) => d.rev === from);
  const b = drafts.find((d) => d.rev === to);
  const text = useMemo(() => {
    const patch = createTwoFilesPatch(
      "plan.json",
      "plan.json",
      planText(a?.plan ?? null),
      planText(b?.plan ?? null),
    );
    // react-diff-view reads git's format: the hunks, under git's headers.
    const at = patch.indexOf("\n@@");
    if (at < 0) return "";
    return `diff --git a/plan.json b/plan.json\n--- a/plan.json\n+++ b/plan.json\n${patch.slice(at + 1)}`;
  }, [a, b]);
  if (withPlan.length < 2) return null;
  const options = withPlan.map((d) => (
    <option key={d.id} value={d.rev}>
      rev {d.rev} ({d.status})
    </option>
  ));
  return (
    <section className="card" aria-labelledby="revdiff-h">
      <h2 id="revdiff-h">Changes between revisions</h2>
      <div className="filters">
        <label>
          From{" "}
          <select value={from} onChange={(e) => setFrom(Number(e.target.value))}>
            {options}
          </select>
        </label>
        <label>
          To{" "}
          <select value={to} onChange={(e) => setTo(Number(e.target.value))}>
            {options}
          </select>
        </label>
      </div>
      <DiffView text={text} label={`Plan changes from revision ${from} to ${to}`} />
    </section>
  );
}

function Runs({
  runs,
  approvedIds,
  canOperate,
}: {
  runs: Run[];
  approvedIds: string[];
  canOperate: boolean;
}) {
  const client = useQueryClient();
  const latestApproved = approvedIds[approvedIds.length - 1];
  const start = useMutation({
    mutationFn: () => post<Run>("/ops/runs", { approved_id: latestApproved }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["task"] }),
  });
  if (!runs.length && !latestApproved) return null;
  return (
    <section className="card" aria-labelledby="runs-h">
      <div className="section-head">
        <h2 id="runs-h">Runs</h2>
        {canOperate && latestApproved ? (
          <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>
            Run the approved plan again
          </button>
        ) : null}
      </div>
      <ErrorBox error={start.error} />
      {runs.length === 0 ? <p className="muted">No run yet.</p> : null}
      <ul className="plain runs">
        {runs.map((r) => (
          <li key={r.id}>
            <Link to={`/runs/${r.id}`}>{r.id}</Link> <Badge status={r.status} />{" "}
            <VerifiedBadge result={r.result} /> attempt {r.attempt}/{r.max_attempts}{" "}
            <Time iso={r.created_at} />
            {r.result?.link ? (
              <>
                {" "}
                · <SafeLink href={r.result.link}>branch</SafeLink>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
