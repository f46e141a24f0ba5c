import { limit } from "./limit.ts";
import { ago, c, print, printJson, table } from "./output.ts";
import { runStatusText } from "./render.ts";
import { connect } from "./session.ts";

/** The actions of `gimo run`, `runs`, `watch`, `logs`, `cancel`. */
interface Globals {
  url?: string;
}

export async function createRun(
  globals: Globals,
  approvedId: string,
  opts: { follow?: boolean; parallel?: boolean; json?: boolean },
) {
  const client = await connect(globals);
  const run = await client.createRun({
    approved_id: approvedId,
    ...(opts.parallel ? { allow_parallel: true } : {}),
  });
  if (opts.follow) {
    if (!opts.json) print(`${c.green("✓")} run ${c.bold(run.id)} queued`);
    const { follow } = await import("./follow.ts");
    return follow(client, run.id, { json: opts.json, lines: true });
  }
  if (opts.json) return printJson(run);
  print(`${c.green("✓")} run ${c.bold(run.id)} queued\n\n${c.bold("Next")}\n  gimo logs ${run.id} --follow`);
}

export async function listRuns(
  globals: Globals,
  opts: { status?: string; task?: string; project?: string; limit: string; json?: boolean },
) {
  const page = await (await connect(globals)).listRuns({
    status: opts.status as never,
    task: opts.task,
    project: opts.project,
    limit: limit(opts.limit),
  });
  if (opts.json) return printJson(page);
  const rows = page.items.map((r) => [
    r.id,
    runStatusText(r),
    r.task_id,
    r.result?.branch ?? c.dim("—"),
    ago(r.updated_at),
  ]);
  print(await table(["run", "status", "task", "branch", "updated"], rows));
}

export async function watch(globals: Globals, id: string, opts: { json?: boolean }) {
  const { follow } = await import("./follow.ts");
  return follow(await connect(globals), id, { json: opts.json, lines: true, steps: true });
}

export async function logs(globals: Globals, id: string, opts: { follow?: boolean; json?: boolean }) {
  const client = await connect(globals);
  if (opts.follow) {
    const { follow } = await import("./follow.ts");
    return follow(client, id, { json: opts.json, lines: true });
  }
  let after: number | undefined;
  const all = [];
  for (;;) {
    const page = await client.runLogs(id, { after, limit: 1000 });
    all.push(...page.items);
    if (page.items.length < 1000) break;
    after = page.items.at(-1)?.seq;
  }
  if (opts.json) return printJson({ items: all, next_cursor: null });
  for (const line of all) if (line.level !== "debug") print(line.msg);
}

export async function cancel(globals: Globals, id: string, opts: { reason?: string; json?: boolean }) {
  const run = await (await connect(globals)).cancelRun(id, opts.reason ? { reason: opts.reason } : {});
  if (opts.json) return printJson(run);
  print(
    run.status === "cancelled"
      ? `${c.green("✓")} run ${run.id} cancelled`
      : `${c.green("✓")} cancellation of ${run.id} requested: its runner stops it (status ${run.status})`,
  );
}
