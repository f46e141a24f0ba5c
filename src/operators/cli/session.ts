import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { GimoClient } from "../../client/client.ts";
import { readLogin } from "./config-file.ts";
import { CliError } from "./exit-codes.ts";

/**
 * Which server and which token a command uses, first found wins:
 *   URL   — `--url`, `GIMO_URL`, the stored login, `http://127.0.0.1:9325`;
 *   token — `GIMO_TOKEN`, the stored login (when its URL is the one in use), `<GIMO_DATA_DIR>/admin.token`
 *           (default `.orch_data/`, for the machine that runs `gimo serve`).
 */
export const defaultUrl = "http://127.0.0.1:9325";

export interface Target {
  url: string;
  token: string | undefined;
  tokenFrom: string;
}

export function resolveTarget(flags: { url?: string }, env: NodeJS.ProcessEnv = process.env): Target {
  const stored = readLogin(env);
  const url = (flags.url ?? env.GIMO_URL ?? stored?.url ?? defaultUrl).replace(/\/+$/, "");
  if (env.GIMO_TOKEN) return { url, token: env.GIMO_TOKEN, tokenFrom: "GIMO_TOKEN" };
  if (stored && stored.url.replace(/\/+$/, "") === url)
    return { url, token: stored.token, tokenFrom: "gimo login" };
  const file = join(env.GIMO_DATA_DIR || ".orch_data", "admin.token");
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { url, token, tokenFrom: file };
  } catch {
    // no local admin token
  }
  return { url, token: undefined, tokenFrom: "nowhere" };
}

/** The typed client for this command, or a clear "log in first". */
export async function connect(flags: { url?: string }): Promise<GimoClient> {
  const target = resolveTarget(flags);
  if (!target.token)
    throw new CliError(
      "auth",
      `no token for ${target.url}: run \`gimo login ${target.url}\`, or set GIMO_TOKEN`,
    );
  const { GimoClient } = await import("../../client/client.ts");
  return new GimoClient({ baseUrl: target.url, token: target.token, validate: validateAnswers() });
}

/**
 * The CLI checks answers against the contract only when asked (`GIMO_VALIDATE=1`): building the
 * schemas costs more start-up time than a whole command should (bench/cli measures both).
 */
function validateAnswers(): boolean {
  return process.env.GIMO_VALIDATE === "1";
}
