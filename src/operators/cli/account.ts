import { GimoClient } from "../../client/client.ts";
import { writeLogin } from "./config-file.ts";
import { CliError } from "./exit-codes.ts";
import { ago, c, interactive, print, printJson, secret, table } from "./output.ts";
import { connect, defaultUrl, resolveTarget } from "./session.ts";

/** The actions of `gimo login`, `whoami` and `token …` (definitions in commands/account.ts). */
interface Globals {
  url?: string;
}

export async function login(
  urlArg: string | undefined,
  opts: { token?: string; tokenStdin?: boolean; json?: boolean },
): Promise<void> {
  const url = (urlArg ?? process.env.GIMO_URL ?? defaultUrl).replace(/\/+$/, "");
  const token = (await tokenFrom(opts, url)).trim();
  if (!token) throw new CliError("usage", "the token is empty");
  const client = new GimoClient({ baseUrl: url, token, validate: false });
  const me = await client.whoami();
  const path = writeLogin({ url, token });
  if (opts.json) return printJson(me);
  print(`${c.green("✓")} logged in to ${url} as ${c.bold(me.actor)} (role ${me.role}); stored in ${path}`);
}

async function tokenFrom(opts: { token?: string; tokenStdin?: boolean }, url: string): Promise<string> {
  if (opts.token) return opts.token;
  if (opts.tokenStdin || (!process.stdin.isTTY && !process.env.GIMO_TOKEN)) {
    const text = await readStdin();
    if (!text.trim())
      throw new CliError(
        "usage",
        "no token on standard input: pipe one in (--token-stdin), pass --token, or run `gimo login` on a terminal",
      );
    return text;
  }
  if (process.env.GIMO_TOKEN) return process.env.GIMO_TOKEN;
  if (!interactive()) throw new CliError("usage", "no token given: pass --token-stdin or --token");
  return secret(`Token for ${url}`, "--token-stdin");
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      text += chunk;
    });
    process.stdin.on("end", () => resolve(text));
    process.stdin.on("error", reject);
  });
}

export async function whoami(globals: Globals, opts: { json?: boolean }): Promise<void> {
  const target = resolveTarget(globals);
  const me = await (await connect(globals)).whoami();
  if (opts.json) return printJson(me);
  print(`${c.bold(me.actor)} (role ${me.role}) at ${target.url} — token from ${target.tokenFrom}`);
}

export async function createToken(
  globals: Globals,
  opts: { role: string; name?: string; expires?: string; json?: boolean },
): Promise<void> {
  const roles = ["admin", "operator", "actions", "runner"] as const;
  const role = roles.find((r) => r === opts.role);
  if (!role) throw new CliError("usage", `--role must be one of ${roles.join(", ")}`);
  const name = opts.name ?? `${role}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`;
  const created = await (await connect(globals)).createToken({ name, role, expires_at: opts.expires });
  if (opts.json) return printJson(created);
  print(`${c.green("✓")} token ${created.id} "${created.name}" (role ${created.role}) — shown once:\n`);
  print(`  ${created.token ?? c.dim("(not shown: an idempotent replay)")}\n`);
}

export async function listTokens(globals: Globals, opts: { json?: boolean }): Promise<void> {
  const page = await (await connect(globals)).listTokens({ limit: 200 });
  if (opts.json) return printJson(page);
  const rows = page.items.map((t) => [
    t.id,
    t.name,
    t.role,
    t.revoked_at
      ? c.red("revoked")
      : t.expires_at && Date.parse(t.expires_at) < Date.now()
        ? c.yellow("expired")
        : "active",
    ago(t.last_used_at),
  ]);
  print(await table(["id", "name", "role", "state", "last used"], rows));
}

export async function revokeToken(globals: Globals, id: string, opts: { json?: boolean }): Promise<void> {
  const revoked = await (await connect(globals)).revokeToken(id);
  if (opts.json) return printJson(revoked);
  print(`${c.green("✓")} token ${revoked.id} "${revoked.name}" revoked`);
}
