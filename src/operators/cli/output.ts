import { createColors } from "picocolors";
import { CliError } from "./exit-codes.ts";

/**
 * How the CLI talks: colour only when stdout is a terminal (never with `NO_COLOR`, always with
 * `FORCE_COLOR`), JSON for scripts, tables for lists, and prompts that refuse at once without a
 * terminal — a script never hangs on a question nobody sees.
 */
const env = process.env;
const colourOn =
  !env.NO_COLOR && (Boolean(env.FORCE_COLOR) || (process.stdout.isTTY === true && env.TERM !== "dumb"));
export const c = createColors(colourOn);

export function print(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Progress and hints for humans, on stderr, so stdout stays the answer. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/** Fails at once, naming the flag that answers the question, when no one can be asked. */
export function needTerminal(what: string, flag = "--yes"): void {
  if (!interactive()) throw new CliError("usage", `${what} needs a terminal to ask: pass ${flag}`);
}

export async function confirm(question: string, flag = "--yes"): Promise<boolean> {
  needTerminal(`"${question}"`, flag);
  const p = await import("@clack/prompts");
  const answer = await p.confirm({ message: question, initialValue: false });
  return answer === true;
}

export async function secret(question: string, flag: string): Promise<string> {
  needTerminal(`"${question}"`, flag);
  const p = await import("@clack/prompts");
  const answer = await p.password({ message: question });
  if (p.isCancel(answer)) throw new CliError("usage", "cancelled");
  return answer;
}

/** A spinner on a terminal (on stderr); a single line of progress otherwise. */
export async function spinner(text: string): Promise<{ stop(done: string): void }> {
  if (!process.stderr.isTTY) {
    note(text);
    return { stop: (done) => note(done) };
  }
  const p = await import("@clack/prompts");
  const s = p.spinner({ output: process.stderr });
  s.start(text);
  return { stop: (done) => s.stop(done) };
}

export async function table(head: string[], rows: string[][]): Promise<string> {
  if (rows.length === 0) return c.dim("(none)");
  const { default: Table } = await import("cli-table3");
  const t = new Table({
    head: head.map((h) => c.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  t.push(...rows);
  return t.toString();
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return "—";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

export function statusColour(status: string): string {
  if (["succeeded", "approved", "COMPLETED", "APPROVED", "online"].includes(status)) return c.green(status);
  if (["failed", "error", "rejected", "offline", "FAILED", "REJECTED"].includes(status)) return c.red(status);
  if (["running", "generating", "queued", "EXECUTING", "PLANNING"].includes(status)) return c.cyan(status);
  return c.yellow(status);
}
