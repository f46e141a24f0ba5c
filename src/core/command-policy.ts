import { type PolicyContext, Refused, RULES, refuse, type State, write } from "./command-policy-rules.ts";
import { type Invocation, invocation } from "./command-words.ts";
import {
  type Element,
  elementCommands,
  type Pipeline,
  parseShell,
  type Script,
  ShellSyntaxError,
  type SimpleCommand,
  simpleCommands,
  type Word,
} from "./shell-syntax.ts";

/**
 * The command policy (SPEC §4): whether a shell command an agent, a plan step or a reasoner
 * proposes may run at all. Pure; a guard rail in front of the sandbox, not a replacement for it.
 *
 * The command is parsed (shell-syntax.ts), and every command it would run is checked — each part
 * of `;` `&&` `||` `|` chains, groups, `$(…)` and backquotes, `sh -c '…'` / `bash -c "…"` / `eval` /
 * `env -S` scripts, here-documents fed to a shell, `find -exec`, `xargs`, `git submodule foreach` —
 * with the working directory followed through `cd`. The first rule that matches refuses the whole
 * command with a stable `rule` and a readable `reason`:
 *
 *   unparseable · too-deep · fork-bomb · privilege-escalation (sudo, su, doas) · rm-destructive
 *   (rm -r of /, ~, the workspace or above it, --no-preserve-root) · write-outside-workspace
 *   (redirections, tee, cp/mv/ln/install, dd of=, touch, mkdir, chmod/chown, curl -o, wget -O to a
 *   path outside the workspace and /tmp, `../` escapes included) · pipe-to-interpreter (curl … | sh)
 *   · remote-code (eval "$(curl …)", bash <(curl …)) · disk-format (mkfs…) · system-power
 *   (shutdown, reboot, kill -1) · container-privileged (docker/podman run --privileged, host
 *   namespaces, / mounted) · reverse-shell (nc -l/-e, socat exec:, /dev/tcp, nc piped to a shell)
 *   · git-… (command-policy-git.ts).
 *
 * Paths that depend on a variable are not guessed at (the sandbox still confines them), except
 * `rm -r "$X"/…`, which would delete from / when X is empty.
 */
export type CommandVerdict = { allowed: true } | { allowed: false; rule: string; reason: string };

export type CommandContext = PolicyContext;

export function checkCommand(command: string, ctx: CommandContext): CommandVerdict {
  try {
    script(command, { ctx, cwd: ctx.workspace, depth: 0, check: { script, simple: checkSimple } });
    return { allowed: true };
  } catch (error) {
    if (error instanceof Refused) return { allowed: false, rule: error.rule, reason: error.message };
    throw error;
  }
}

const MAX_DEPTH = 8;
// `busybox sh …` reaches the rules as `sh` (command-words.ts unwraps busybox like env or nice).
const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish"]);
const FETCHERS = new Set(["curl", "wget", "fetch", "aria2c", "http", "https", "xh", "lwp-request", "GET"]);
const NETCATS = new Set(["nc", "ncat", "netcat", "socat", "telnet"]);
const FORK_BOMB = /([A-Za-z_:][\w:]*)\s*\(\s*\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}/;

function script(text: string, st: State): void {
  if (st.depth > MAX_DEPTH)
    refuse("too-deep", "the command nests shells and substitutions too deeply to check");
  if (FORK_BOMB.test(text))
    refuse("fork-bomb", "this is a fork bomb: a function that pipes into itself in the background");
  let parsed: Script;
  try {
    parsed = parseShell(text);
  } catch (error) {
    if (error instanceof ShellSyntaxError)
      refuse("unparseable", `the command could not be parsed (${error.message}), so it cannot be checked`);
    throw error;
  }
  checkScript(parsed, st);
}

function checkScript(s: Script, st: State): void {
  for (const p of s.pipelines) checkPipeline(p, st);
}

function checkPipeline(p: Pipeline, st: State): void {
  pipelineRules(p, st);
  const alone = p.elements.length === 1;
  for (const e of p.elements) {
    const own = alone && !(e.type === "group" && e.subshell) ? st : { ...st };
    if (e.type === "group") checkScript(e.script, own);
    else checkSimple(e, own);
  }
}

/** Rules about what flows between the parts of a pipeline. */
function pipelineRules(p: Pipeline, st: State): void {
  const named = (e: Element) => [...elementCommands(e)].map((c) => ({ c, inv: invocation(c.words) }));
  const all = p.elements.map(named);
  const flat = all.flat();
  if (
    flat.some((x) => x.inv && NETCATS.has(x.inv.name)) &&
    flat.some((x) => x.inv && SHELLS.has(x.inv.name)) &&
    p.elements.length > 1
  ) {
    refuse("reverse-shell", "a network connection piped to or from a shell is a reverse shell");
  }
  for (let j = 1; j < all.length; j++) {
    for (const { inv } of all[j] ?? []) {
      if (!inv || !readsCodeFromStdin(inv)) continue;
      const upstream = all.slice(0, j).flat();
      const fetcher = upstream.find((x) => x.inv && FETCHERS.has(x.inv.name));
      if (fetcher) {
        refuse(
          "pipe-to-interpreter",
          `piping ${fetcher.inv?.name} into ${inv.name} runs code straight from the network; download it to a file and review it first`,
        );
      }
      if (!SHELLS.has(inv.name)) continue;
      for (const x of upstream) {
        if (x.inv && (x.inv.name === "echo" || x.inv.name === "printf"))
          nested(
            x.inv.args
              .map((w) => w.text)
              .join(" ")
              .replace(/\\n/g, "\n"),
            st,
          );
        for (const r of x.c.redirects) if (r.heredoc !== undefined) nested(r.heredoc, st);
      }
    }
  }
}

function checkSimple(cmd: SimpleCommand, st: State): void {
  for (const w of cmd.words) for (const sub of w.subs) nested(sub, st);
  for (const r of cmd.redirects) {
    for (const sub of r.target.subs) nested(sub, st);
    if (/^\/dev\/(tcp|udp)\//.test(r.target.text))
      refuse("reverse-shell", `redirecting to ${r.target.text} opens a raw network connection`);
    const writes =
      [">", ">>", ">|", "&>", "&>>", "<>"].includes(r.op) ||
      (r.op === ">&" && !/^(\d+|-)$/.test(r.target.text));
    if (writes) write(r.target, st, `the redirection ${r.op} ${r.target.text}`);
  }
  if (cmd.words.some((w) => /\$\{?IFS\b/.test(w.text)))
    refuse("unverifiable", "$IFS in a command hides what it runs");
  const inv = invocation(cmd.words);
  if (!inv) return;
  if (/[$`]/.test(inv.name)) {
    refuse(
      "unverifiable",
      `the program to run (${inv.name}) comes from a variable or a substitution, so it cannot be checked; name the program`,
    );
  }
  if (
    inv.args.some((w) => w.subs.some(fetches)) &&
    (inv.name === "eval" ||
      inv.name === "source" ||
      inv.name === "." ||
      SHELLS.has(inv.name) ||
      isInterpreter(inv.name))
  ) {
    refuse("remote-code", `${inv.name} would run code downloaded from the network`);
  }
  if (SHELLS.has(inv.name)) shellRule(inv, st, cmd);
  const rule = RULES[inv.name] ?? (inv.name.startsWith("mkfs") ? RULES.mkfs : undefined);
  rule?.(inv, st, cmd);
}

function shellRule(inv: Invocation, st: State, cmd: SimpleCommand): void {
  const script = shellScript(inv.args);
  if (script !== undefined) nested(script, st);
  for (const r of cmd.redirects) {
    if (r.heredoc !== undefined) nested(r.heredoc, st);
    if (r.op === "<<<") nested(r.target.text, st);
  }
}

/** The script of `sh -c SCRIPT` (flags may cluster: `-lc`, `-ec`), or undefined. */
function shellScript(args: Word[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const t = (args[i] as Word).text;
    if (t === "--" || !/^[-+]/.test(t)) return undefined;
    if (t === "-o" || t === "+o" || t === "-O" || t === "+O" || t === "--rcfile" || t === "--init-file") i++;
    else if (/^-[A-Za-z]*c[A-Za-z]*$/.test(t))
      return args.slice(i + 1).find((w) => !w.text.startsWith("-"))?.text;
  }
  return undefined;
}

function isInterpreter(name: string): boolean {
  return (
    SHELLS.has(name) ||
    /^python[\d.]*$/.test(name) ||
    ["perl", "ruby", "node", "nodejs", "php", "lua", "tclsh", "pwsh"].includes(name)
  );
}

/**
 * An interpreter with no program of its own reads it from stdin: its first word that is not an
 * option is `-` or missing. (`python3 -c CODE`, `node -e CODE`, `python3 -m MODULE` name theirs with
 * that first word.) A shell reads stdin also with `-s`, whatever follows, unless `-c` gave it its
 * script (and `-s` is then its `$0`).
 */
function readsCodeFromStdin(inv: Invocation): boolean {
  if (!isInterpreter(inv.name)) return false;
  if (SHELLS.has(inv.name)) {
    if (shellScript(inv.args) !== undefined) return false;
    if (inv.args.some((w) => w.text === "-s")) return true;
  }
  const first = inv.args.find((w) => !w.text.startsWith("-") || w.text === "-");
  return first === undefined || first.text === "-";
}

function nested(text: string, st: State): void {
  script(text, { ...st, depth: st.depth + 1 });
}

function fetches(body: string): boolean {
  try {
    const parsed = parseShell(body);
    return [...simpleCommands(parsed)].some((c) => {
      const inv = invocation(c.words);
      return (inv && FETCHERS.has(inv.name)) || c.words.some((w) => w.subs.some(fetches));
    });
  } catch {
    return false;
  }
}
