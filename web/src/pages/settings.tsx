import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { del, get, post } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { Panic, TokenCreatedT, TokenPageT } from "../api/types.ts";
import { CopyId } from "../ui/copy.tsx";
import { Empty, ErrorBox, TableWrap } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";
import { CredentialsPanel, ProjectsPanel, ProvidersPanel } from "./admin-parts.tsx";
import { IntegrationsPanel } from "./integrations-panel.tsx";

/**
 * Settings (admins): panic switch, providers with health, credential requests, projects,
 * integrations (read-only), tokens.
 * A minted token is shown once, with a copy button, and never again (the server keeps its hash).
 */
export default function Settings() {
  const can = useCan();
  if (!can.admin) return <Empty title="Only admins change settings" />;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
        <Link to="/setup">Setup wizard</Link>
      </div>
      <section className="card" aria-labelledby="panic-h">
        <h2 id="panic-h">Panic switch</h2>
        <PanicSwitch />
      </section>
      <section className="card" aria-labelledby="prov-h">
        <h2 id="prov-h">Providers</h2>
        <ProvidersPanel />
      </section>
      <section className="card" aria-labelledby="cred-h">
        <h2 id="cred-h">Credential requests</h2>
        <CredentialsPanel />
      </section>
      <section className="card" aria-labelledby="proj-h">
        <h2 id="proj-h">Projects</h2>
        <ProjectsPanel />
      </section>
      <section className="card" aria-labelledby="int-h">
        <h2 id="int-h">Integrations</h2>
        <IntegrationsPanel />
      </section>
      <section className="card" aria-labelledby="tok-h">
        <h2 id="tok-h">Tokens</h2>
        <Tokens />
      </section>
    </div>
  );
}

function PanicSwitch() {
  const client = useQueryClient();
  const panic = useQuery({ queryKey: ["panic"], queryFn: () => get<Panic>("/ops/panic") });
  const [reason, setReason] = useState("");
  const set = useMutation({
    mutationFn: (on: boolean) => post<Panic>("/ops/panic", on ? { on, reason } : { on }),
    onSuccess: (p) => {
      client.setQueryData(["panic"], p);
      setReason("");
    },
  });
  const on = panic.data?.on ?? false;
  return (
    <div>
      <p>
        While on, every change is refused (423) and runners claim nothing. Status:{" "}
        <strong className={on ? "bad" : "ok"}>{on ? "ON" : "off"}</strong>
      </p>
      {on ? (
        <button type="button" onClick={() => set.mutate(false)} disabled={set.isPending}>
          Turn panic mode off
        </button>
      ) : (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            set.mutate(true);
          }}
        >
          <label htmlFor="panic-reason">Reason</label>
          <input id="panic-reason" value={reason} required onChange={(e) => setReason(e.target.value)} />
          <button type="submit" className="danger" disabled={set.isPending || !reason.trim()}>
            Turn panic mode on
          </button>
        </form>
      )}
      <ErrorBox error={set.error} />
    </div>
  );
}

function Tokens() {
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => get<TokenPageT>("/ops/tokens?limit=200") });
  const [name, setName] = useState("");
  const [role, setRole] = useState("operator");
  const [minted, setMinted] = useState<TokenCreatedT | null>(null);
  const mint = useMutation({
    mutationFn: () => post<TokenCreatedT>("/ops/tokens", { name: name.trim(), role }),
    onSuccess: (t) => {
      setMinted(t);
      setName("");
      void client.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/ops/tokens/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["tokens"] }),
  });
  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setMinted(null);
          mint.mutate();
        }}
      >
        <label htmlFor="tok-name">Name</label>
        <input
          id="tok-name"
          value={name}
          required
          placeholder="ci-bot"
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="tok-role">Role</label>
        <select id="tok-role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option>actions</option>
          <option>operator</option>
          <option>admin</option>
          <option>runner</option>
        </select>
        <button type="submit" disabled={mint.isPending || !name.trim()}>
          Mint token
        </button>
      </form>
      <ErrorBox error={mint.error ?? revoke.error} />
      {minted?.token ? (
        <div className="ok-box" role="status" data-testid="minted-token">
          <p>
            Token for <strong>{minted.name}</strong> ({minted.role}) — copy it now, it is shown only once:
          </p>
          <CopyId value={minted.token} label="the new token" />
          <button type="button" onClick={() => setMinted(null)}>
            I copied it
          </button>
        </div>
      ) : null}
      <TableWrap label="Tokens">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(tokens.data?.items ?? []).map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td>
                  <Time iso={t.created_at} />
                </td>
                <td>
                  <Time iso={t.last_used_at} />
                </td>
                <td>
                  {t.revoked_at ? (
                    "revoked"
                  ) : t.expires_at ? (
                    <>
                      expires <Time iso={t.expires_at} />
                    </>
                  ) : (
                    "active"
                  )}
                </td>
                <td>
                  {t.revoked_at ? null : (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => revoke.mutate(t.id)}
                      aria-label={`Revoke ${t.name}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {tokens.data?.items.length === 0 ? <p className="muted">Only environment tokens so far.</p> : null}
    </div>
  );
}
