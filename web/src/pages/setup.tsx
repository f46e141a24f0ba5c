import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { get, post } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { CredentialListT, Draft, ProjectPageT, ProvidersT, TaskPageT } from "../api/types.ts";
import { Empty, ErrorBox, Loading } from "../ui/states.tsx";
import { CredentialsPanel, ProjectsPanel, ProvidersPanel } from "./admin-parts.tsx";

/**
 * The first-run setup wizard (admins): the planner and executor providers (with a test), the
 * credential requests their `${VAR}` references opened, the first project, the first task. An
 * admin who signs in is brought here until all four are done.
 */
const STEPS = ["Providers", "Credentials", "Project", "First task"] as const;

export default function Setup() {
  const can = useCan();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const providers = useQuery({
    queryKey: ["providers"],
    queryFn: () => get<ProvidersT>("/ops/provider"),
    enabled: can.admin,
  });
  const requests = useQuery({
    queryKey: ["requests"],
    queryFn: () => get<CredentialListT>("/ops/requests"),
    enabled: can.admin,
  });
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => get<ProjectPageT>("/ops/projects?limit=200"),
  });
  const tasks = useQuery({ queryKey: ["tasks", "any"], queryFn: () => get<TaskPageT>("/ops/tasks?limit=1") });
  const [step, setStep] = useState(0);
  const [prompt, setPrompt] = useState("");
  const createTask = useMutation({
    mutationFn: () => post<Draft>("/ops/tasks", { prompt }),
    onSuccess: (d) => navigate(`/tasks/${d.task_id}`),
  });
  const done = [
    !!providers.data?.planner && !!providers.data?.executor,
    (requests.data?.items ?? []).every((r) => r.status === "PROVIDED"),
    (projects.data?.items.length ?? 0) > 0,
    (tasks.data?.items.length ?? 0) > 0,
  ];
  const loaded = providers.isSuccess && requests.isSuccess && projects.isSuccess && tasks.isSuccess;
  const firstOpen = done.findIndex((d) => !d);
  // Open at the first step left to do, once the answers first arrive.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when loading completes
  useEffect(() => {
    if (loaded && firstOpen > 0) setStep((s) => (s === 0 ? firstOpen : s));
  }, [loaded]);
  if (!can.admin) return <Empty title="Only admins set GIMO up" />;
  if (!loaded) return <Loading what="Checking the setup" />;
  if (params.get("auto") && firstOpen === -1) return <Navigate to="/" replace />;
  return (
    <div className="page narrow-wide">
      <h1>Set up GIMO</h1>
      <ol className="wizard-steps">
        {STEPS.map((name, i) => (
          <li key={name} className={i === step ? "current" : ""}>
            <button type="button" onClick={() => setStep(i)} aria-current={i === step ? "step" : undefined}>
              <span className={`dot ${done[i] ? "done" : ""}`} aria-hidden="true">
                {done[i] ? "✓" : i + 1}
              </span>{" "}
              {name}
              <span className="sr-only">{done[i] ? " (done)" : " (to do)"}</span>
            </button>
          </li>
        ))}
      </ol>
      <section className="card" aria-labelledby="wizard-h">
        <h2 id="wizard-h">
          {step + 1}. {STEPS[step]}
        </h2>
        {step === 0 ? (
          <>
            <p className="muted">
              The planner writes plans; the executor carries them out. Test them before you go on.
            </p>
            <ProvidersPanel />
          </>
        ) : null}
        {step === 1 ? (
          <>
            <p className="muted">
              Secrets your settings refer to. Their values go into GIMO's vault and are never shown.
            </p>
            <CredentialsPanel />
          </>
        ) : null}
        {step === 2 ? (
          <>
            <p className="muted">
              A git repository GIMO may work on: runs push a task branch, never a protected one.
            </p>
            <ProjectsPanel onCreated={() => setStep(3)} />
          </>
        ) : null}
        {step === 3 ? (
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              createTask.mutate();
            }}
          >
            <label htmlFor="first-prompt">Describe a first task</label>
            <textarea id="first-prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
            <ErrorBox error={createTask.error} />
            <button type="submit" className="primary" disabled={!prompt.trim() || createTask.isPending}>
              {createTask.isPending ? "Planning…" : "Plan it"}
            </button>
          </form>
        ) : null}
        <div className="actions wizard-nav">
          <button type="button" disabled={step === 0} onClick={() => setStep(step - 1)}>
            Back
          </button>
          {step < STEPS.length - 1 ? (
            <button type="button" onClick={() => setStep(step + 1)}>
              Next
            </button>
          ) : (
            <button type="button" onClick={() => navigate("/")}>
              Go to the board
            </button>
          )}
        </div>
      </section>
    </div>
  );
}
