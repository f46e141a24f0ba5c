import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { get, qs } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { ProjectPageT, Run, RunPageT, Task } from "../api/types.ts";
import { SafeLink } from "../ui/safe-link.tsx";
import { Badge, Empty, ErrorBox, Loading } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";

/**
 * The board: tasks as cards in columns by status, filtered by project and a search over title and
 * prompt; live through the event stream. A card shows its title, project, age, its latest run's
 * progress and its branch link.
 */
const COLUMNS: { title: string; statuses: Task["status"][] }[] = [
  { title: "Planning", statuses: ["PLANNING"] },
  { title: "Awaiting approval", statuses: ["PLANNED"] },
  { title: "Queued / executing", statuses: ["APPROVED", "EXECUTING"] },
  { title: "Completed", statuses: ["COMPLETED"] },
  { title: "Failed / rejected", statuses: ["FAILED", "REJECTED", "CANCELLED"] },
];

async function allPages<T>(path: (cursor?: string) => string, max = 10): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < max; i++) {
    const page = await get<{ items: T[]; next_cursor: string | null }>(path(cursor));
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

export function Board() {
  const can = useCan();
  const [params, setParams] = useSearchParams();
  const project = params.get("project") ?? "";
  const [search, setSearch] = useState(params.get("q") ?? "");
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => get<ProjectPageT>("/ops/projects?limit=200"),
  });
  const tasks = useQuery({
    queryKey: ["tasks", project],
    queryFn: () => allPages<Task>((cursor) => `/ops/tasks${qs({ project, limit: 200, cursor })}`),
  });
  const runs = useQuery({
    queryKey: ["runs", project],
    queryFn: () => get<RunPageT>(`/ops/runs${qs({ project, limit: 200 })}`),
  });
  const projectNames = useMemo(
    () => new Map((projects.data?.items ?? []).map((p) => [p.id, p.name])),
    [projects.data],
  );
  const latestRun = useMemo(() => {
    const byTask = new Map<string, Run>();
    for (const run of runs.data?.items ?? []) if (!byTask.has(run.task_id)) byTask.set(run.task_id, run);
    return byTask;
  }, [runs.data]);
  const needle = search.trim().toLowerCase();
  const visible = (tasks.data ?? []).filter(
    (t) => !needle || t.prompt.toLowerCase().includes(needle) || t.id.toLowerCase().includes(needle),
  );

  return (
    <div className="page">
      <div className="page-head">
        <h1>Board</h1>
        {can.operate ? (
          <Link className="button primary" to="/tasks/new">
            New task
          </Link>
        ) : null}
      </div>
      <form className="filters" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
        <label>
          Project{" "}
          <select
            value={project}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value) next.set("project", e.target.value);
              else next.delete("project");
              setParams(next, { replace: true });
            }}
          >
            <option value="">All projects</option>
            {(projects.data?.items ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search{" "}
          <input
            type="search"
            value={search}
            placeholder="prompt or id"
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
      </form>
      <ErrorBox error={tasks.error} />
      {tasks.isPending ? (
        <Loading what="Loading tasks" />
      ) : (tasks.data ?? []).length === 0 ? (
        <Empty title="No tasks yet">
          {can.operate ? (
            <p>
              <Link to="/tasks/new">Describe a task</Link> and a planner model drafts a plan for you to
              approve.
            </p>
          ) : (
            <p>Tasks appear here as soon as someone creates one.</p>
          )}
        </Empty>
      ) : (
        <div className="board">
          {COLUMNS.map((col) => {
            const cards = visible.filter((t) => col.statuses.includes(t.status));
            return (
              <section key={col.title} className="column" aria-label={`${col.title} (${cards.length})`}>
                <h2>
                  {col.title} <span className="count">{cards.length}</span>
                </h2>
                {cards.length === 0 ? <p className="muted small">Nothing here.</p> : null}
                <ul>
                  {cards.map((t) => (
                    <li key={t.id}>
                      <TaskCard task={t} project={projectNames.get(t.project_id)} run={latestRun.get(t.id)} />
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}

function TaskCard({ task, project, run }: { task: Task; project?: string; run?: Run }) {
  const steps = run?.steps ?? [];
  const done = steps.filter((s) => s.status === "succeeded" || s.status === "skipped").length;
  const title = task.prompt.split("\n")[0]?.slice(0, 140) ?? task.id;
  return (
    <article className="task-card">
      <Link to={`/tasks/${task.id}`} className="card-title">
        {title}
      </Link>
      <div className="card-meta">
        <Badge status={task.status} />
        {project ? <span className="muted">{project}</span> : null}
        <Time iso={task.created_at} />
      </div>
      {run ? (
        <div className="card-run">
          <Link to={`/runs/${run.id}`}>run {run.status}</Link>
          {steps.length ? (
            <progress max={steps.length} value={done} aria-label={`${done} of ${steps.length} steps done`} />
          ) : null}
          {run.result?.link ? <SafeLink href={run.result.link}>branch</SafeLink> : null}
        </div>
      ) : null}
    </article>
  );
}
