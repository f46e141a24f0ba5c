import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { get, post } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { Draft, ProjectPageT } from "../api/types.ts";
import { Empty, ErrorBox } from "../ui/states.tsx";

/**
 * New task: a prompt and a project. `POST /ops/tasks` creates the task and asks the planner for its
 * first draft; the page then moves to the task, where the draft appears (live) once it is written.
 */
export default function NewTask() {
  const can = useCan();
  const navigate = useNavigate();
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => get<ProjectPageT>("/ops/projects?limit=200"),
  });
  const [prompt, setPrompt] = useState("");
  const [project, setProject] = useState("");
  const items = projects.data?.items ?? [];
  const chosen = project || items.find((p) => p.is_default)?.id || items[0]?.id || "";
  const chosenRef = useRef(chosen);
  chosenRef.current = chosen;
  const create = useMutation({
    mutationFn: () =>
      post<Draft>("/ops/tasks", { prompt, ...(chosenRef.current ? { project: chosenRef.current } : {}) }),
    onSuccess: (draft) => navigate(`/tasks/${draft.task_id}`),
  });
  if (!can.operate) return <Empty title="Your role cannot create tasks">Ask an operator or an admin.</Empty>;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <div className="page narrow">
      <h1>New task</h1>
      {projects.isSuccess && items.length === 0 ? (
        <Empty title="No project yet">
          <p>
            Register a repository first, in <Link to="/setup">setup</Link>.
          </p>
        </Empty>
      ) : (
        <form className="card form" onSubmit={submit}>
          <label htmlFor="project">Project</label>
          <select id="project" value={chosen} onChange={(e) => setProject(e.target.value)}>
            {items.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <label htmlFor="prompt">What should be done?</label>
          <textarea
            id="prompt"
            rows={6}
            value={prompt}
            required
            maxLength={20_000}
            placeholder="e.g. The tests say add() is broken. Fix it."
            onChange={(e) => setPrompt(e.target.value)}
          />
          <ErrorBox error={create.error} />
          <button type="submit" className="primary" disabled={create.isPending || prompt.trim() === ""}>
            {create.isPending ? "Planning…" : "Plan it"}
          </button>
          <p className="muted small">
            A planner model drafts a plan. Nothing runs until someone approves it.
          </p>
        </form>
      )}
    </div>
  );
}
