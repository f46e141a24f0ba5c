import { posix } from "node:path";
import type { Word } from "./shell-syntax.ts";

/**
 * Helpers the command policy uses to read one simple command: which program really runs once the
 * wrappers are peeled off (`env X=1 nice -n 5 timeout 10 git push` runs git), which arguments are
 * operands rather than options, and where a path argument lands relative to the workspace. Pure.
 */
export interface Invocation {
  /** The program's base name (`/usr/bin/git` → `git`). */
  name: string;
  args: Word[];
}

const KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "do",
  "while",
  "until",
  "!",
  "time",
  "fi",
  "done",
  "esac",
  "{",
  "}",
]);
const NOT_COMMANDS = new Set(["for", "case", "select", "function", "in", "[[", "]]"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

/** Options that take a value, per wrapper; the wrapper's command starts at its first operand. */
const WRAPPERS: Record<string, { values: string[]; operandsBefore?: number }> = {
  env: { values: ["-u", "--unset", "-C", "--chdir", "-S", "--split-string"] },
  command: { values: [] },
  builtin: { values: [] },
  exec: { values: ["-a"] },
  nohup: { values: [] },
  setsid: { values: [] },
  stdbuf: { values: ["-i", "-o", "-e", "--input", "--output", "--error"] },
  nice: { values: ["-n", "--adjustment"] },
  ionice: { values: ["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"] },
  timeout: { values: ["-s", "-k", "--signal", "--kill-after"], operandsBefore: 1 },
  xargs: {
    values: [
      "-n",
      "-L",
      "-P",
      "-s",
      "-I",
      "-d",
      "-a",
      "-E",
      "--max-args",
      "--max-procs",
      "--delimiter",
      "--arg-file",
      "--replace",
      "--max-lines",
    ],
  },
  chronic: { values: [] },
  unbuffer: { values: [] },
  taskset: { values: [], operandsBefore: 1 },
  caffeinate: { values: [] },
  busybox: { values: [] },
  doas: { values: [] },
};

/** The program a simple command runs, or undefined for none (an assignment, `for`, `command -v`). */
export function invocation(words: Word[]): Invocation | undefined {
  let i = 0;
  for (;;) {
    while (
      i < words.length &&
      (ASSIGNMENT.test((words[i] as Word).text) || KEYWORDS.has((words[i] as Word).text))
    )
      i++;
    const word = words[i];
    if (!word || NOT_COMMANDS.has(word.text)) return undefined;
    const name = posix.basename(word.text);
    const wrapper = WRAPPERS[name];
    if (!wrapper || name === "doas") return { name, args: words.slice(i + 1) };
    if (name === "command" && words.slice(i + 1).some((w) => w.text === "-v" || w.text === "-V"))
      return undefined;
    const split =
      name === "env"
        ? optionValues(words.slice(i + 1), "S", ["--split-string"], wrapper.values)[0]
        : undefined;
    if (split) return { name: "sh", args: [{ ...split, text: "-c" }, split] }; // env -S 'cmd …' runs a command line
    i = skipOptions(words, i + 1, wrapper.values) + (wrapper.operandsBefore ?? 0);
  }
}

function skipOptions(words: Word[], from: number, values: string[]): number {
  let i = from;
  while (i < words.length) {
    const t = (words[i] as Word).text;
    if (t === "--") return i + 1;
    if (!t.startsWith("-") || t === "-") return i;
    i += values.includes(t) ? 2 : 1;
  }
  return i;
}

/** Operands of a command: arguments that are not options (nor the values of `valueOptions`). */
export function operands(args: Word[], valueOptions: string[] = []): Word[] {
  const out: Word[] = [];
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as Word;
    if (options && w.text === "--") options = false;
    else if (options && w.text.startsWith("-") && w.text !== "-") {
      if (valueOptions.includes(w.text)) i++;
    } else out.push(w);
  }
  return out;
}

/**
 * The value of an option given as `-o X`, `-oX`, `--output X`, `--output=X`, or in a short cluster
 * (`-sSLo X`, `-sSLoX`): read as getopt does, the rest of the cluster after the option's letter is
 * its value, and when nothing is left the next word is. A letter of `others` (the program's other
 * options that take a value, e.g. `["-u", "-C"]`) ends the scan: the rest of the cluster is its
 * value (`env -uS git push` unsets S). Without them this reads more values, never fewer — which
 * is stricter wherever a value is a file written, and must be given where it is not.
 */
export function optionValues(
  args: Word[],
  short: string | undefined,
  long: string[],
  others: string[] = [],
): Word[] {
  const stops = others.filter((o) => /^-[A-Za-z0-9]$/.test(o)).map((o) => o.charAt(1));
  const out: Word[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    const t = word.text;
    if (t === "--") break;
    const next = args[i + 1];
    if (long.includes(t) && next) out.push(next);
    for (const l of long)
      if (t.startsWith(`${l}=`)) out.push({ ...word, text: t.slice(l.length + 1), tilde: false });
    const at = short && t[0] === "-" && t[1] !== "-" ? clusterIndex(t, short, stops) : -1;
    if (at > 0) {
      const rest = t.slice(at + 1);
      if (rest) out.push({ ...word, text: rest, tilde: false });
      else if (next) out.push(next);
    }
  }
  return out;
}

/** Where `letter` is in the cluster `t` before any of `stops` (whose value the rest is); -1 if not. */
function clusterIndex(t: string, letter: string, stops: string[]): number {
  for (let k = 1; k < t.length; k++) {
    if (t.charAt(k) === letter) return k;
    if (stops.includes(t.charAt(k))) return -1;
  }
  return -1;
}

/** Whether a short-flag cluster or long option among `args` sets any of `letters` / `longs`. */
export function hasFlag(args: Word[], letters: string, longs: string[] = []): boolean {
  for (const w of args) {
    if (w.text === "--") return false;
    if (longs.includes(w.text) || longs.some((l) => w.text.startsWith(`${l}=`))) return true;
    if (/^-[A-Za-z0-9]+$/.test(w.text) && [...w.text.slice(1)].some((c) => letters.includes(c))) return true;
  }
  return false;
}

// ───────────────────────────── where a path lands ─────────────────────────────

/**
 * - `inside`: in the workspace (the workspace itself included); `tmp`: under /tmp (private in the
 *   sandbox); `device`: /dev/null and the standard streams;
 * - `above`: / or a directory containing the workspace; `home`: ~ or $HOME itself;
 * - `outside`: anywhere else; `unknown`: depends on a variable, a glob at its start or an unknown
 *   working directory — the policy does not guess, the sandbox still applies.
 */
export type Place = "inside" | "tmp" | "device" | "above" | "home" | "outside" | "unknown";

const DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/\d+)$/;
const HOME_WORD = /^(~|\$HOME|\$\{HOME\})\/?\*?$/;

export interface Where {
  place: Place;
  path?: string;
  /** The word names what is IN `path` (`dir/*`, `dir/$x`), not `path` itself. */
  contents?: boolean;
}

export function place(word: Word, cwd: string | undefined, workspace: string): Where {
  const text = word.text;
  if ((word.tilde && HOME_WORD.test(text)) || (!word.tilde && /^(\$HOME|\$\{HOME\})\/?\*?$/.test(text)))
    return { place: "home" };
  if (word.tilde || /^(\$HOME|\$\{HOME\})(\/|$)/.test(text)) return { place: "outside", path: text };
  const open = text.search(/[$`*?[]/);
  let literal = text;
  const contents = open >= 0;
  if (contents) {
    const prefix = text.slice(0, open);
    const slash = prefix.lastIndexOf("/");
    if (slash < 0) {
      if (open === 0 && (text[0] === "$" || text[0] === "`")) return { place: "unknown" };
      literal = "."; // a partial name in the working directory
    } else literal = prefix.slice(0, slash + 1) || "/";
  }
  if (literal === "") return { place: "unknown" };
  let path: string;
  if (literal.startsWith("/")) path = posix.normalize(literal);
  else if (cwd === undefined) return { place: "unknown" };
  else path = posix.resolve(cwd, literal);
  if (path.length > 1) path = path.replace(/\/+$/, "");
  if (contents && path === workspace) return { place: "inside", path, contents };
  return { place: placeOf(path, workspace), path, contents };
}

export function placeOf(path: string, workspace: string): Place {
  if (within(workspace, path)) return "inside";
  if (within(path, workspace)) return "above";
  if (within("/tmp", path)) return "tmp";
  if (DEVICES.test(path)) return "device";
  return "outside";
}

export function within(parent: string, child: string): boolean {
  const rel = posix.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !posix.isAbsolute(rel));
}
