import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { get, post, qs } from "../api/client.ts";
import { openStream } from "../api/events.ts";
import { useCan } from "../api/session.tsx";
import type { Approved, EventT, LogLineT, LogPageT, Project, Run, RunDiff } from "../api/types.ts";
import { CopyId } from "../ui/copy.tsx";
import { DiffView } from "../ui/diff-view.tsx";
import { SafeLink } from "../ui/safe-link.tsx";
import { Badge, ErrorBox, Loading } from "../ui/states.tsx";
import { duration, Time } from "../ui/time.tsx";
import { LogStore, RunLog } from "./run-log.tsx";
import { VerificationSection, VerifiedBadge } from "./run-verification.tsx";

/**
 * A run: its steps as a timeline, the live log, the tests with their output tail, whether it is
 * verified (the acceptance verdicts with their evidence), the files it
 * changed and the diff of its pushed commit, branch and pull-request links (http(s) only), what it
 * used against its budgets, its attempts, and cancel / requeue for operators.
 *
 * Live: the run's own event stream (`/ops/runs/{id}/events`) is opened first, then the log so far
 * is read page by page; lines are kept by their seq, so the two never duplicate or miss a line.
 */
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export default function RunPage() {
  const { id = "" } = useParams();
  const can = useCan();
  const client = useQueryClient();
  const run = useQuery({ queryKey: ["run", id], queryFn: () => get<Run>(`/ops/runs/${id}`) });
  const approved = useQuery({
    queryKey: ["approved", run.data?.approved_id],
    enabled: !!run.data,
    queryFn: () => get<Approved>(`/ops/approved/${run.data?.approved_id}`),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const project = useQuery({
    queryKey: ["projects", run.data?.project_id],
    enabled: !!run.data,
    queryFn: () => get<Project>(`/ops/projects/${run.data?.project_id}`),
  });
  const [history, setHistory] = useState<EventT[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new store for each run
  const store = useMemo(() => new LogStore(), [id]);
  const [logError, setLogError] = useState<unknown>(null);

  useEffect(() => {
    const abort = new AbortController();
    const early: LogLineT[] = [];
    let loaded = false;
    setHistory([]);
    openStream(`/ops/runs/${id}/events`, abort.signal, {
      onOpen() {
        if (loaded) return;
        void (async () => {
          try {
            let cursor: string | undefined;
            do {
              const page = await get<LogPageT>(
                `/ops/runs/${id}/logs${qs({ limit: 1000, cursor })}`,
                abort.signal,
              );
              store.add(page.items);
              cursor = page.next_cursor ?? undefined;
            } while (cursor);
            loaded = true;
            store.add(early);
          } catch (error) {
            if (!abort.signal.aborted) setLogError(error);
          }
        })();
      },
      onEvent(event) {
        if (event.type === "run.logs") {
          const lines = (event.lines ?? []) as LogLineT[];
          if (loaded) store.add(lines);
          else early.push(...lines);
          return;
        }
        setHistory((h) => [...h, event]);
        void client.invalidateQueries({ queryKey: ["run", id] });
      },
      isDone: () => TERMINAL.has(client.getQueryData<Run>(["run", id])?.status ?? ""),
    });
    return () => abort.abort();
  }, [id, store, client]);

  if (run.isPending) return <Loading what="Loading run" />;
  if (run.error) return <ErrorBox error={run.error} />;
  const r = run.data;
  const result = r.result;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link to="/">Board</Link> / <Link to={`/tasks/${r.task_id}`}>task</Link> / run
          </p>
          <h1>{approved.data?.plan.title ?? "Run"}</h1>
          <div className="meta-row">
            <Badge status={r.status} /> <VerifiedBadge result={result} />{" "}
            <CopyId value={r.id} label="run id" />
            {r.cancel_requested && !TERMINAL.has(r.status) ? (
              <span className="badge badge-warn">cancel requested</span>
            ) : null}
            <span className="muted">
              attempt {r.attempt} of {r.max_attempts}
            </span>
            <span className="muted">
              started <Time iso={r.started_at} />
            </span>
          </div>
        </div>
        {can.operate ? <RunControls run={r} /> : null}
      </div>
      {r.error ? (
        <div className="error" role="alert">
          <strong>{r.error.code}</strong>: {r.error.message}
        </div>
      ) : null}
      <div className="run-grid">
        <section className="card" aria-labelledby="steps-h">
          <h2 id="steps-h">Steps</h2>
          {r.steps.length === 0 ? <p className="muted">No step has started yet.</p> : null}
          <ol className="timeline">
            {r.steps.map((s) => (
              <li key={s.id} className={`tl tl-${s.status}`}>
                <span className="tl-dot" aria-hidden="true" />
                <div>
                  <strong>{s.title}</strong> <span className="muted">{s.kind}</span>{" "}
                  <Badge status={s.status} />
                  <div className="muted small">
                    {s.attempts > 1 ? `${s.attempts} attempts · ` : ""}
                    {duration(s.started_at, s.finished_at)}
                  </div>
                  {s.detail ? <p className="pre-wrap small">{s.detail}</p> : null}
                </div>
              </li>
            ))}
          </ol>
        </section>
        <section className="card" aria-labelledby="budget-h">
          <h2 id="budget-h">Budgets</h2>
          <Budgets run={r} approved={approved.data} project={project.data} />
          <h2>Delivery</h2>
          {result ? (
            <dl className="facts">
              {result.branch ? (
                <>
                  <dt>Branch</dt>
                  <dd>
                    {result.link ? (
                      <SafeLink href={result.link}>{result.branch}</SafeLink>
                    ) : (
                      <code>{result.branch}</code>
                    )}
                  </dd>
                </>
              ) : null}
              {result.pull_request ? (
                <>
                  <dt>Pull request</dt>
                  <dd>
                    <SafeLink href={result.pull_request.url}>#{result.pull_request.number}</SafeLink>
                  </dd>
                </>
              ) : null}
              <dt>Pushed</dt>
              <dd>{result.pushed ? "yes" : "no"}</dd>
              {result.head_sha ? (
                <>
                  <dt>Commit</dt>
                  <dd>
                    <CopyId value={result.head_sha.slice(0, 12)} label="commit" />
                  </dd>
                </>
              ) : null}
            </dl>
          ) : (
            <p className="muted">Nothing delivered yet.</p>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="log-h">
        <h2 id="log-h">Log</h2>
        <ErrorBox error={logError} />
        <RunLog store={store} />
      </section>
      {result?.tests ? (
        <section className="card" aria-labelledby="tests-h">
          <h2 id="tests-h">Tests</h2>
          <p>
            <code>{result.tests.command}</code> — exit {String(result.tests.exit_code)}
            {result.tests.passed !== null ? ` · ${result.tests.passed} passed` : ""}
            {result.tests.failed !== null ? ` · ${result.tests.failed} failed` : ""}
          </p>
          <pre className="output">{result.tests.output_tail}</pre>
        </section>
      ) : null}
      {result ? <VerificationSection result={result} /> : null}
      {result?.file_changes?.length ? (
        <section className="card" aria-labelledby="files-h">
          <h2 id="files-h">Files changed</h2>
          <ul className="plain files">
            {result.file_changes.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code> <span className="muted">{f.status}</span>{" "}
                <span className="ins">+{f.insertions}</span> <span className="del">−{f.deletions}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {result?.head_sha ? <RunDiffSection runId={r.id} head={result.head_sha} /> : null}
      <section className="card" aria-labelledby="hist-h">
        <h2 id="hist-h">Attempts and events</h2>
        {history.length === 0 ? <p className="muted">No event since this page opened.</p> : null}
        <ul className="plain small">
          {history.map((e) => (
            <li key={e.seq}>
              <Time iso={e.ts} /> <code>{e.type}</code> by {e.actor}
              {typeof e.data.attempt === "number" ? ` · attempt ${e.data.attempt}` : ""}
              {typeof e.data.reason === "string" ? ` · ${e.data.reason}` : ""}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Budgets({ run, approved, project }: { run: Run; approved?: Approved; project?: Project }) {
  const budgets = { ...(project?.budgets ?? {}), ...(approved?.plan.budgets ?? {}) };
  const usage = run.result?.usage;
  const tokens = usage ? usage.input_tokens + usage.output_tokens : null;
  const wall = run.started_at
    ? Math.round(
        ((run.finished_at ? Date.parse(run.finished_at) : Date.now()) - Date.parse(run.started_at)) / 1000,
      )
    : null;
  const row = (label: string, used: number | null, max: number | undefined, unit = "") => (
    <div className="budget">
      <span>{label}</span>
      <span>
        {used === null ? "—" : `${used.toLocaleString()}${unit}`}
        {max ? ` / ${max.toLocaleString()}${unit}` : ""}
      </span>
      {max && used !== null ? (
        <meter min={0} max={max} value={Math.min(used, max)} aria-label={`${label} used`} />
      ) : null}
    </div>
  );
  return (
    <div className="budgets">
      {row("Tokens", tokens, budgets.max_tokens)}
      {row("Wall time", wall, budgets.max_wall_seconds, " s")}
      {budgets.max_turns ? (
        <p className="muted small">
          max {budgets.max_turns} turns · max {budgets.max_fix_iterations ?? "?"} fix iterations
        </p>
      ) : null}
    </div>
  );
}

function RunControls({ run }: { run: Run }) {
  const client = useQueryClient();
  const done = () => client.invalidateQueries({ queryKey: ["run", run.id] });
  const cancel = useMutation({
    mutationFn: () => post<Run>(`/ops/runs/${run.id}/cancel`, {}),
    onSuccess: done,
  });
  const requeue = useMutation({
    mutationFn: () => post<Run>(`/ops/runs/${run.id}/requeue`, {}),
    onSuccess: done,
  });
  return (
    <div className="actions">
      {run.status === "queued" || run.status === "running" ? (
        <button
          type="button"
          className="danger"
          onClick={() => cancel.mutate()}
          disabled={cancel.isPending || run.cancel_requested}
        >
          {run.cancel_requested ? "Cancelling…" : "Cancel run"}
        </button>
      ) : null}
      {run.status === "failed" || run.status === "cancelled" ? (
        <button type="button" onClick={() => requeue.mutate()} disabled={requeue.isPending}>
          Requeue
        </button>
      ) : null}
      <ErrorBox error={cancel.error ?? requeue.error} />
    </div>
  );
}

function RunDiffSection({ runId, head }: { runId: string; head: string }) {
  const diff = useQuery({
    queryKey: ["run-diff", runId, head],
    queryFn: () => get<RunDiff>(`/ops/runs/${runId}/diff`),
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <section className="card" aria-labelledby="diff-h">
      <h2 id="diff-h">Diff of the pushed commit</h2>
      {diff.isPending ? <Loading what="Loading diff" /> : null}
      <ErrorBox error={diff.error} />
      {diff.data ? (
        <>
          {diff.data.truncated ? (
            <p className="warn">
              The diff is larger than {diff.data.max_bytes.toLocaleString()} bytes: cut there.
            </p>
          ) : null}
          <DiffView text={diff.data.diff} label="Diff of the run's commit" />
        </>
      ) : null}
    </section>
  );
}
