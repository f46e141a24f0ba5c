import { GimoClientError } from "../../client/client.ts";
import { c, print, printJson, statusColour } from "./output.ts";
import { connect } from "./session.ts";

/** The action of `gimo status`. Provider health needs a role that reads secrets; others see it as unknown. */
export async function status(globals: { url?: string }, opts: { json?: boolean }): Promise<void> {
  const client = await connect(globals);
  const [server, runners, providers] = await Promise.all([
    client.status(),
    client.runnerStatus(),
    client.providerHealth().catch((error: unknown) => {
      if (error instanceof GimoClientError && error.status === 403) return null;
      throw error;
    }),
  ]);
  if (opts.json) return printJson({ status: server, runners, providers });
  const q = server.queue;
  print(
    `${c.bold("GIMO")} ${server.version} at ${client.baseUrl} — up ${Math.round(server.uptime_seconds)} s, ${server.storage}`,
  );
  print(
    server.panic.on
      ? c.red(
          `${c.bold("PANIC MODE")} since ${server.panic.since} by ${server.panic.by}: ${server.panic.reason ?? ""}`,
        )
      : `panic mode ${c.green("off")}`,
  );
  print(`runners ${c.green(`${runners.online} online`)}, ${runners.offline} offline`);
  for (const r of runners.runners.filter((r) => r.status === "online"))
    print(
      `  ${r.name} ${c.dim(r.id)} capacity ${r.capacity}${r.current_runs.length ? ` running ${r.current_runs.join(", ")}` : ""}`,
    );
  print(
    `queue ${q.queued} queued, ${q.running} running, ${q.succeeded} succeeded, ${q.failed} failed, ${q.cancelled} cancelled`,
  );
  if (!providers) print(`providers ${c.dim("(health needs an admin token)")}`);
  else
    for (const role of ["planner", "executor"] as const) {
      const h = providers[role];
      print(
        h
          ? `${role} ${h.type} ${h.model} ${h.ok ? statusColour("online") : c.red(`unreachable${h.detail ? `: ${h.detail}` : ""}`)} ${c.dim(`${h.latency_ms} ms`)}`
          : `${role} ${c.yellow("not configured")} ${c.dim("(PUT /ops/provider, or GIMO_PROVIDERS_FILE at start)")}`,
      );
    }
}
