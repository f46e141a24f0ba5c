import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { get, post, put } from "../api/client.ts";
import type {
  CredentialListT,
  Project,
  ProjectPageT,
  ProvidersHealthT,
  ProvidersT,
  ProviderViewT,
} from "../api/types.ts";
import { CopyId } from "../ui/copy.tsx";
import { Empty, ErrorBox, Loading } from "../ui/states.tsx";

/**
 * The admin's building blocks, shared by Settings and the first-run setup wizard: the planner and
 * executor providers (with a test that shows health and latency), credential requests (values go
 * in, never out), and projects.
 */
const ROLES = ["planner", "executor"] as const;
type ProviderRole = (typeof ROLES)[number];
const TYPES = ["openai_compat", "anthropic", "gemini", "agent_cli"];

export function ProvidersPanel() {
  const client = useQueryClient();
  const providers = useQuery({ queryKey: ["providers"], queryFn: () => get<ProvidersT>("/ops/provider") });
  const health = useMutation({ mutationFn: () => get<ProvidersHealthT>("/ops/provider/health") });
  if (providers.isPending) return <Loading what="Loading providers" />;
  return (
    <div className="providers">
      <ErrorBox error={providers.error} />
      <div className="grid-2">
        {ROLES.map((role) => (
          <ProviderForm
            key={role}
            role={role}
            current={providers.data?.[role] ?? null}
            onSaved={() => {
              void client.invalidateQueries({ queryKey: ["providers"] });
              void client.invalidateQueries({ queryKey: ["requests"] });
            }}
          />
        ))}
      </div>
      <div className="actions">
        <button type="button" onClick={() => health.mutate()} disabled={health.isPending}>
          {health.isPending ? "Testing…" : "Test providers"}
        </button>
      </div>
      <ErrorBox error={health.error} />
      {health.data ? (
        <ul className="plain health" aria-label="Provider health">
          {ROLES.map((role) => {
            const h = health.data[role];
            return (
              <li key={role}>
                <strong>{role}</strong>:{" "}
                {h ? (
                  <>
                    <span className={h.ok ? "ok" : "bad"}>{h.ok ? "healthy" : "unhealthy"}</span> · {h.model}{" "}
                    · {Math.round(h.latency_ms)} ms{h.detail ? ` · ${h.detail}` : ""}
                  </>
                ) : (
                  <span className="muted">not configured</span>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}

function ProviderForm({
  role,
  current,
  onSaved,
}: {
  role: ProviderRole;
  current: ProviderViewT | null;
  onSaved(): void;
}) {
  const [type, setType] = useState(current?.type ?? "openai_compat");
  const [baseUrl, setBaseUrl] = useState(current?.base_url ?? "");
  const [model, setModel] = useState(current?.model ?? "");
  const [apiKey, setApiKey] = useState(current?.api_key ?? "");
  const save = useMutation({
    mutationFn: () =>
      put<ProvidersT>("/ops/provider", {
        [role]: {
          type,
          model,
          ...(baseUrl.trim() ? { base_url: baseUrl.trim() } : {}),
          ...(apiKey.trim() ? { api_key: apiKey.trim() } : {}),
        },
      }),
    onSuccess: onSaved,
  });
  const id = (f: string) => `${role}-${f}`;
  return (
    <form
      className="card form"
      aria-label={`${role} provider`}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h3>
        {role === "planner" ? "Planner" : "Executor"}{" "}
        {current ? <span className="badge badge-online">set</span> : <span className="badge">not set</span>}
      </h3>
      <label htmlFor={id("type")}>Type</label>
      <select id={id("type")} value={type} onChange={(e) => setType(e.target.value)}>
        {TYPES.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      <label htmlFor={id("base")}>Base URL</label>
      <input
        id={id("base")}
        value={baseUrl}
        placeholder="https://api.openai.com/v1"
        onChange={(e) => setBaseUrl(e.target.value)}
      />
      <label htmlFor={id("model")}>Model</label>
      <input id={id("model")} value={model} required onChange={(e) => setModel(e.target.value)} />
      <label htmlFor={id("key")}>API key</label>
      <input
        id={id("key")}
        value={apiKey}
        autoComplete="off"
        placeholder="${OPENAI_API_KEY}"
        onChange={(e) => setApiKey(e.target.value)}
      />
      <p className="muted small">
        Prefer a <code>{"${VAR}"}</code> reference: GIMO asks for its value as a credential request and keeps
        it in its vault. A literal key is sealed and never shown again.
      </p>
      <ErrorBox error={save.error} />
      <button type="submit" disabled={save.isPending || !model.trim()}>
        {save.isSuccess && !save.isPending ? "Saved ✓" : `Save ${role}`}
      </button>
    </form>
  );
}

export function CredentialsPanel() {
  const requests = useQuery({ queryKey: ["requests"], queryFn: () => get<CredentialListT>("/ops/requests") });
  if (requests.isPending) return <Loading what="Loading credential requests" />;
  const items = requests.data?.items ?? [];
  return (
    <div>
      <ErrorBox error={requests.error} />
      {items.length === 0 ? (
        <Empty title="No credential requested">
          <p>
            A <code>{"${VAR}"}</code> in a provider or project setting makes a request appear here.
          </p>
        </Empty>
      ) : (
        <ul className="plain requests">
          {items.map((r) => (
            <CredentialRow key={r.id} id={r.id} name={r.name} status={r.status} source={r.source} />
          ))}
        </ul>
      )}
    </div>
  );
}

function CredentialRow(props: { id: string; name: string; status: string; source: string | null }) {
  const client = useQueryClient();
  const [value, setValue] = useState("");
  const provide = useMutation({
    mutationFn: () => put(`/ops/requests/${props.id}`, { value }),
    onSuccess: () => {
      setValue("");
      void client.invalidateQueries({ queryKey: ["requests"] });
    },
  });
  return (
    <li className="request">
      <div>
        <code>{props.id}</code> <strong>{props.name}</strong>{" "}
        <span className={`badge ${props.status === "PROVIDED" ? "badge-online" : "badge-warn"}`}>
          {props.status}
        </span>
        {props.source ? <span className="muted"> from {props.source}</span> : null}
      </div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          provide.mutate();
        }}
      >
        <label className="sr-only" htmlFor={`cred-${props.id}`}>
          Value of {props.name}
        </label>
        <input
          id={`cred-${props.id}`}
          type="password"
          autoComplete="off"
          value={value}
          placeholder={props.status === "PROVIDED" ? "replace the value" : "paste the value"}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit" disabled={!value || provide.isPending}>
          Save {props.name}
        </button>
      </form>
      <ErrorBox error={provide.error} />
    </li>
  );
}

export function ProjectsPanel({ onCreated }: { onCreated?(project: Project): void }) {
  const projects = useQuery({
    queryKey: ["projects"],
    queryFn: () => get<ProjectPageT>("/ops/projects?limit=200"),
  });
  return (
    <div>
      <ErrorBox error={projects.error} />
      {projects.data?.items.length ? (
        <ul className="plain projects">
          {projects.data.items.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> <CopyId value={p.id} label="project id" />{" "}
              <span className="muted">
                {p.repo_path ?? p.repo_url} · base {p.base_branch} · tests{" "}
                <code>{p.test_command ?? "—"}</code>
              </span>
            </li>
          ))}
        </ul>
      ) : projects.isSuccess ? (
        <p className="muted">No project yet.</p>
      ) : null}
      <ProjectForm onCreated={onCreated} />
    </div>
  );
}

function ProjectForm({ onCreated }: { onCreated?(project: Project): void }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [location, setLocation] = useState("");
  const [testCommand, setTestCommand] = useState("");
  const [protectedBranches, setProtected] = useState("main, master, dev, development");
  const [linkTemplate, setLinkTemplate] = useState("");
  const create = useMutation({
    mutationFn: () => {
      const where = location.trim();
      return post<Project>("/ops/projects", {
        name: name.trim(),
        ...(where.startsWith("/") ? { repo_path: where } : { repo_url: where }),
        ...(testCommand.trim() ? { test_command: testCommand.trim() } : {}),
        ...(linkTemplate.trim() ? { link_template: linkTemplate.trim() } : {}),
        protected_branches: protectedBranches
          .split(",")
          .map((b) => b.trim())
          .filter(Boolean),
      });
    },
    onSuccess: (project) => {
      void client.invalidateQueries({ queryKey: ["projects"] });
      setName("");
      setLocation("");
      onCreated?.(project);
    },
  });
  return (
    <form
      className="card form"
      aria-label="Add a project"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <h3>Add a project</h3>
      <label htmlFor="p-name">Name</label>
      <input id="p-name" value={name} required onChange={(e) => setName(e.target.value)} />
      <label htmlFor="p-where">Repository: a path on the server or a git URL</label>
      <input
        id="p-where"
        value={location}
        required
        placeholder="/srv/repos/shop or https://…"
        onChange={(e) => setLocation(e.target.value)}
      />
      <label htmlFor="p-test">Test command</label>
      <input
        id="p-test"
        value={testCommand}
        placeholder="npm test"
        onChange={(e) => setTestCommand(e.target.value)}
      />
      <label htmlFor="p-protected">Protected branches (comma-separated)</label>
      <input id="p-protected" value={protectedBranches} onChange={(e) => setProtected(e.target.value)} />
      <label htmlFor="p-link">Branch link template (optional, http(s))</label>
      <input
        id="p-link"
        value={linkTemplate}
        placeholder="https://github.com/org/repo/tree/{branch}"
        onChange={(e) => setLinkTemplate(e.target.value)}
      />
      <ErrorBox error={create.error} />
      <button type="submit" disabled={create.isPending || !name.trim() || !location.trim()}>
        Add project
      </button>
    </form>
  );
}
