import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get, qs } from "../api/client.ts";
import { useCan } from "../api/session.tsx";
import type { AuditVerifyT, EventPageT } from "../api/types.ts";
import { Empty, ErrorBox, Loading, TableWrap } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";

/**
 * The audit log (admins): every event of the hash-chained log, oldest first, a page at a time,
 * filtered by exact type and subject (server-side); a button walks the chain (`GET /ops/audit/verify`) and shows the
 * result, naming the first broken event when there is one.
 */
export default function Audit() {
  const can = useCan();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [type, setType] = useState("");
  const [subject, setSubject] = useState("");
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({
    queryKey: ["audit", cursor, type, subject],
    enabled: can.admin,
    queryFn: () => get<EventPageT>(`/ops/audit${qs({ limit: 50, cursor, type, subject })}`),
  });
  const verify = useMutation({ mutationFn: () => get<AuditVerifyT>("/ops/audit/verify") });
  if (!can.admin) return <Empty title="Only admins read the audit log" />;
  const items = page.data?.items ?? [];
  const filter = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value.trim());
    setCursors([undefined]);
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        <button type="button" className="primary" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? "Verifying…" : "Verify the chain"}
        </button>
      </div>
      {verify.data ? (
        <div className={verify.data.ok ? "ok-box" : "error"} role="status">
          {verify.data.ok
            ? `The chain is intact: ${verify.data.checked} events checked.`
            : `Broken at event ${verify.data.broken_at}: ${verify.data.reason ?? "the chain does not hold"}`}
        </div>
      ) : null}
      <ErrorBox error={verify.error ?? page.error} />
      <div className="filters">
        <label>
          Type{" "}
          <input
            list="event-types"
            value={type}
            placeholder="e.g. draft.approved"
            onChange={filter(setType)}
          />
          <datalist id="event-types">
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          Subject <input value={subject} placeholder="an id, e.g. d_…" onChange={filter(setSubject)} />
        </label>
      </div>
      {page.isPending ? <Loading what="Loading events" /> : null}
      {page.data && items.length === 0 ? <Empty title="No event matches" /> : null}
      {items.length ? (
        <TableWrap label="Events">
          <table className="audit">
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Subject</th>
                <th scope="col">Actor</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>
                    <Time iso={e.ts} />
                  </td>
                  <td>
                    <code>{e.type}</code>
                  </td>
                  <td>
                    <code>{e.subject}</code>
                  </td>
                  <td>
                    {e.actor} <span className="muted">({e.role})</span>
                  </td>
                  <td className="data-cell">
                    <code>{JSON.stringify(e.data).slice(0, 200)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <div className="actions">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!page.data?.next_cursor}
          onClick={() => setCursors((c) => [...c, page.data?.next_cursor ?? undefined])}
        >
          Next page
        </button>
      </div>
    </div>
  );
}

/** The event types the server emits today (the event catalogue will name them all). */
const EVENT_TYPES = [
  "task.created",
  "task.status",
  "draft.created",
  "draft.generated",
  "draft.edited",
  "draft.failed",
  "draft.approved",
  "draft.rejected",
  "draft.superseded",
  "run.queued",
  "run.started",
  "run.step",
  "run.logs",
  "run.retry",
  "run.lease_expired",
  "run.cancel_requested",
  "run.cancelled",
  "run.requeued",
  "run.succeeded",
  "run.failed",
  "runner.registered",
  "runner.stopped",
  "project.created",
  "project.updated",
  "plan.updated",
  "plan.proposed",
  "provider.updated",
  "credential.provided",
  "token.created",
  "token.revoked",
  "panic.on",
  "panic.off",
];
