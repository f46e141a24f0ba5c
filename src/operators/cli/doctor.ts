import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { GimoClient, GimoClientError } from "../../client/client.ts";
import { CliError } from "./exit-codes.ts";
import { c, print, printJson } from "./output.ts";
import { resolveTarget } from "./session.ts";

/**
 * The action of `gimo doctor`. Each check says what it found and, when it failed, the fix. Local
 * checks are about this machine (where `gimo serve` or `gimo runner` runs commands); server checks
 * use the URL and token every other command uses.
 */
const exec = promisify(execFile);

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function tool(name: string, cmd: string, args: string[], fix: string): Promise<Check> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { timeout: 10_000 });
    return { name, ok: true, detail: `${stdout || stderr}`.trim().split("\n")[0] ?? "" };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message.split("\n")[0] ?? "failed", fix };
  }
}

async function localChecks(): Promise<Check[]> {
  const apt = "on Debian or Ubuntu: sudo apt-get install -y";
  const major = Number(process.versions.node.split(".")[0]);
  return [
    {
      name: "node",
      ok: major >= 24,
      detail: `Node ${process.versions.node}`,
      ...(major >= 24
        ? {}
        : { fix: "run gimo through npm (`npx gimo …`): the project's install brings Node 24" }),
    },
    await tool("git", "git", ["--version"], `${apt} git`),
    await tool("ripgrep", "rg", ["--version"], `${apt} ripgrep (the agent's search tool)`),
    await tool("bubblewrap", "bwrap", ["--version"], `${apt} bubblewrap (the sandbox)`),
    await tool(
      "sandbox",
      "bwrap",
      [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-all",
        "--die-with-parent",
        "true",
      ],
      "bwrap cannot make namespaces here: allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04+), or run GIMO in a VM/container that permits them",
    ),
    await tool("util-linux", "prlimit", ["--version"], `${apt} util-linux (prlimit, setpriv, unshare)`),
  ];
}

async function serverChecks(globals: { url?: string }): Promise<Check[]> {
  const target = resolveTarget(globals);
  const checks: Check[] = [];
  const open = new GimoClient({
    baseUrl: target.url,
    token: target.token ?? "-",
    validate: false,
    timeoutMs: 5_000,
  });
  try {
    await open.health();
    checks.push({ name: "server", ok: true, detail: `${target.url} answers` });
  } catch (error) {
    checks.push({
      name: "server",
      ok: false,
      detail: `${target.url}: ${(error as Error).message}`,
      fix: "start it with `gimo serve` (or `npm start`), or point GIMO_URL / `gimo login URL` at it",
    });
    return checks;
  }
  try {
    const res = await fetch(`${target.url}/ready`, { signal: AbortSignal.timeout(5_000) });
    const ready = (await res.json()) as { ok: boolean; database: string };
    checks.push({
      name: "database",
      ok: ready.ok,
      detail: `${ready.database} ${ready.ok ? "answers" : "does not answer"}`,
      ...(ready.ok ? {} : { fix: "check DATABASE_URL and that PostgreSQL is up, or the data dir's disk" }),
    });
  } catch (error) {
    checks.push({
      name: "database",
      ok: false,
      detail: (error as Error).message,
      fix: "see the server's log",
    });
  }
  if (!target.token) {
    checks.push({
      name: "token",
      ok: false,
      detail: "none",
      fix: `gimo login ${target.url}, or set GIMO_TOKEN`,
    });
    return checks;
  }
  try {
    const me = await open.whoami();
    checks.push({
      name: "token",
      ok: true,
      detail: `${me.actor} (role ${me.role}) from ${target.tokenFrom}`,
    });
  } catch (error) {
    checks.push({
      name: "token",
      ok: false,
      detail: (error as Error).message,
      fix: `gimo login ${target.url} with a valid token`,
    });
    return checks;
  }
  try {
    const health = await open.providerHealth();
    for (const role of ["planner", "executor"] as const) {
      const h = health[role];
      checks.push(
        h
          ? {
              name: role,
              ok: h.ok,
              detail: `${h.type} ${h.model}${h.ok ? ` reachable (${h.latency_ms} ms)` : `: ${h.detail ?? "unreachable"}`}`,
              ...(h.ok
                ? {}
                : { fix: "check the provider's base_url and key (GET /ops/provider), and that it is up" }),
            }
          : {
              name: role,
              ok: false,
              detail: "not configured",
              fix: "configure it with PUT /ops/provider or GIMO_PROVIDERS_FILE (see the README, Providers)",
            },
      );
    }
  } catch (error) {
    if (!(error instanceof GimoClientError && error.status === 403)) throw error;
    checks.push({ name: "models", ok: true, detail: "not checked: provider health needs an admin token" });
  }
  return checks;
}

export async function doctor(globals: { url?: string }, opts: { json?: boolean }): Promise<void> {
  const checks = [...(await localChecks()), ...(await serverChecks(globals))];
  if (opts.json) printJson({ checks });
  else
    for (const check of checks) {
      print(`${check.ok ? c.green("✓") : c.red("✗")} ${c.bold(check.name.padEnd(10))} ${check.detail}`);
      if (!check.ok && check.fix) print(`  ${c.yellow("fix:")} ${check.fix}`);
    }
  const failed = checks.filter((ch) => !ch.ok);
  if (failed.length > 0)
    throw new CliError(
      "checksFailed",
      `${failed.length} check${failed.length > 1 ? "s" : ""} failed: ${failed.map((f) => f.name).join(", ")}`,
    );
}
