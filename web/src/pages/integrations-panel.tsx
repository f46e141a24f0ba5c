import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client.ts";
import type { IntegrationListT } from "../api/types.ts";
import { Empty, ErrorBox, TableWrap } from "../ui/states.tsx";
import { Time } from "../ui/time.tsx";

/**
 * The integrations registry, read-only: each OpenAPI service or MCP server, where it is reached,
 * whether the last discovery reached it, and the operations the executor agent and the chat
 * planner may call (everywhere or in named projects). Registered and allow-listed over the API.
 */
export function IntegrationsPanel() {
  const list = useQuery({
    queryKey: ["integrations"],
    queryFn: () => get<IntegrationListT>("/ops/integrations?limit=200"),
  });
  const items = list.data?.items ?? [];
  if (list.isSuccess && items.length === 0)
    return (
      <Empty title="No integrations">
        Register an OpenAPI service or an MCP server with <code>POST /ops/integrations</code>.
      </Empty>
    );
  return (
    <div>
      <ErrorBox error={list.error} />
      <TableWrap label="Integrations">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Reached at</th>
              <th scope="col">Status</th>
              <th scope="col">Allow-listed operations</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => {
              const allowed = i.operations.filter((o) => o.allowed !== null);
              return (
                <tr key={i.id}>
                  <td>{i.name}</td>
                  <td>{i.kind}</td>
                  <td>
                    <code>{i.base_url ?? `stdio: ${i.stdio?.command ?? ""}`}</code>
                  </td>
                  <td>
                    <span className={i.status === "online" ? "ok" : "bad"}>{i.status}</span>{" "}
                    {i.discovered_at ? (
                      <>
                        · {i.operations.length} operations, discovered <Time iso={i.discovered_at} />
                      </>
                    ) : null}
                    {i.discovery_error ? <div className="muted">{i.discovery_error}</div> : null}
                  </td>
                  <td>
                    {allowed.length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      <ul className="plain">
                        {allowed.map((o) => (
                          <li key={o.name}>
                            <code>{o.name}</code>{" "}
                            <span className="muted">
                              {o.allowed === "everywhere"
                                ? "everywhere"
                                : `in ${(o.allowed ?? []).join(", ")}`}
                            </span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
    </div>
  );
}
