import { checkGit } from "./command-policy-git.ts";
import { hasFlag, type Invocation, operands, optionValues, type Place, place } from "./command-words.ts";
import type { SimpleCommand, Word } from "./shell-syntax.ts";

/**
 * The per-program rules of the command policy (command-policy.ts walks the command and calls the
 * rule of each program it finds): files written outside the workspace, destructive `rm`, privilege,
 * disks, power, containers, raw network tools, and the programs that run other commands (`eval`,
 * `watch`, `find -exec`, git's own) — those hand their commands back through `st.check`. `cd` moves
 * the followed working directory. A rule refuses by throwing `Refused`; returning means allowed.
 */
export interface PolicyContext {
  workspace: string;
  protectedBranches: string[];
}

export interface State {
  ctx: PolicyContext;
  /** The working directory as far as it can be followed; undefined once a `cd` goes somewhere unknown. */
  cwd: string | undefined;
  depth: number;
  /** The policy itself, for the commands a program runs. */
  check: { script(text: string, st: State): void; simple(cmd: SimpleCommand, st: State): void };
}

export class Refused extends Error {
  readonly rule: string;
  constructor(rule: string, reason: string) {
    super(reason);
    this.rule = rule;
  }
}

export const refuse = (rule: string, reason: string): never => {
  throw new Refused(rule, reason);
};

const nested = (text: string, st: State) => st.check.script(text, { ...st, depth: st.depth + 1 });

export type Rule = (inv: Invocation, st: State, cmd: SimpleCommand) => void;

const privilege: Rule = (inv) =>
  refuse("privilege-escalation", `${inv.name} runs commands as another user; commands run unprivileged`);
const disk: Rule = (inv) => refuse("disk-format", `${inv.name} formats or repartitions disks`);
const power: Rule = (inv) => refuse("system-power", `${inv.name} shuts down or restarts the machine`);

export const RULES: Record<string, Rule> = {
  init: (inv, st, cmd) => (["0", "6"].includes(inv.args[0]?.text ?? "") ? power(inv, st, cmd) : undefined),
  systemctl: (inv, st, cmd) =>
    inv.args.some((w) => /^(poweroff|reboot|halt|kexec|suspend|hibernate)$/.test(w.text))
      ? power(inv, st, cmd)
      : undefined,
  kill: (inv) => {
    // kill [-SIGNAL | -s SIGNAL | -n NUMBER] [--] PID…: a first word like `-9` (or `-1`) names the
    // signal only when process ids follow it; alone, `kill -1` is read as the process id.
    const t = inv.args.map((w) => w.text);
    let first = 0;
    if (t[0] === "-s" || t[0] === "-n") first = 2;
    else if (t.length > 1 && /^-[A-Za-z0-9]+$/.test(t[0] ?? "")) first = 1;
    if (t[first] === "--") first++;
    if (t.slice(first).includes("-1")) refuse("system-power", "kill -1 signals every process there is");
  },
  rm: (inv, st) => remove(inv, st),
  rmdir: (inv, st) => remove(inv, st),
  unlink: (inv, st) => remove(inv, st),
  shred: (inv, st) => remove(inv, st),
  cp: (inv, st) => destination(inv, st, ["-S", "--suffix"]),
  mv: (inv, st) => destination(inv, st, ["-S", "--suffix"]),
  install: (inv, st) =>
    destination(inv, st, ["-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix"]),
  ln: (inv, st) => destination(inv, st, ["-S", "--suffix"]),
  rsync: (inv, st) => destination(inv, st, ["-e", "--rsh", "--exclude", "--include", "--filter", "-f"]),
  tee: (inv, st) => everyOperand(inv, st, []),
  touch: (inv, st) => everyOperand(inv, st, ["-d", "-t", "-r", "--date", "--reference"]),
  mkdir: (inv, st) => everyOperand(inv, st, ["-m", "--mode"]),
  truncate: (inv, st) => everyOperand(inv, st, ["-s", "--size", "-r", "--reference"]),
  chmod: (inv, st) => permissions(inv, st),
  chown: (inv, st) => permissions(inv, st),
  chgrp: (inv, st) => permissions(inv, st),
  dd: (inv, st) => {
    for (const w of inv.args)
      if (w.text.startsWith("of="))
        write({ ...w, text: w.text.slice(3), tilde: w.text.startsWith("of=~") }, st, `dd ${w.text}`);
  },
  curl: (inv, st) => {
    for (const w of [...optionValues(inv.args, "o", ["--output", "--output-dir"])])
      write(w, st, `curl writing ${w.text}`);
  },
  wget: (inv, st) => {
    for (const w of optionValues(inv.args, "O", ["--output-document", "--directory-prefix"]))
      write(w, st, `wget writing ${w.text}`);
    for (const w of optionValues(inv.args, "P", [])) write(w, st, `wget writing into ${w.text}`);
  },
  git: (inv, st) => {
    const v = checkGit(inv.args, { protectedBranches: st.ctx.protectedBranches, where: (w) => where(w, st) });
    if (v.block) refuse(v.block.rule, v.block.reason);
    for (const n of v.nested) nested(n, st);
  },
  docker: (inv) => container(inv),
  podman: (inv) => container(inv),
  nerdctl: (inv) => container(inv),
  nc: (inv) => netcat(inv),
  ncat: (inv) => netcat(inv),
  netcat: (inv) => netcat(inv),
  socat: (inv) => {
    if (
      inv.args.some((w) =>
        /(^|[,!])(exec|system|tcp-listen|tcp-l|tcp6-listen|udp-listen|pty):?/i.test(w.text),
      )
    ) {
      refuse("reverse-shell", "socat with a listener or an exec address serves a shell over the network");
    }
  },
  eval: (inv, st) => nested(inv.args.map((w) => w.text).join(" "), st),
  alias: () =>
    refuse("unverifiable", "aliases rename commands so they cannot be checked; run the command itself"),
  gh: (inv) => forge(inv, "pr"),
  glab: (inv) => forge(inv, "mr"),
  watch: (inv, st) =>
    nested(
      operands(inv.args, ["-n", "--interval"])
        .map((w) => w.text)
        .join(" "),
      st,
    ),
  find: (inv, st) => find(inv, st),
  cd: (inv, st) => changeDirectory(inv, st),
  pushd: (inv, st) => changeDirectory(inv, st),
  popd: (_inv, st) => {
    st.cwd = undefined;
  },
};

for (const name of ["sudo", "su", "doas", "pkexec", "runuser"]) RULES[name] = privilege;
for (const name of [
  "mkfs",
  "mke2fs",
  "mkswap",
  "wipefs",
  "fdisk",
  "sfdisk",
  "cfdisk",
  "parted",
  "sgdisk",
  "blkdiscard",
]) {
  RULES[name] = disk;
}
for (const name of ["shutdown", "reboot", "halt", "poweroff", "telinit"]) RULES[name] = power;

function where(word: Word, st: State): Place {
  return place(word, st.cwd, st.ctx.workspace).place;
}

export function write(target: Word, st: State, what: string): void {
  const p = where(target, st);
  if (p === "outside" || p === "above" || p === "home") {
    refuse(
      "write-outside-workspace",
      `${what} writes outside the workspace; commands may only change files in the workspace (or /tmp)`,
    );
  }
}

function remove(inv: Invocation, st: State): void {
  if (inv.args.some((w) => w.text === "--no-preserve-root"))
    refuse("rm-destructive", "--no-preserve-root lets rm delete the whole filesystem");
  const recursive = inv.name === "rm" && hasFlag(inv.args, "rR", ["--recursive"]);
  for (const target of operands(inv.args)) {
    const { place: p, path, contents } = place(target, st.cwd, st.ctx.workspace);
    const whole = path === st.ctx.workspace && !contents;
    if (recursive && (p === "above" || p === "home" || whole)) {
      const what =
        p === "home"
          ? "the home directory"
          : whole
            ? "the whole workspace"
            : `${path}, which contains the workspace`;
      refuse("rm-destructive", `\`rm -r ${target.text}\` would delete ${what}`);
    }
    if (recursive && /^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)\/\*?$/.test(target.text)) {
      refuse("rm-destructive", `\`rm -r ${target.text}\` deletes from / when the variable is empty`);
    }
    if (p === "outside" || p === "above" || p === "home")
      refuse("write-outside-workspace", `${inv.name} ${target.text}: outside the workspace`);
  }
}

function destination(inv: Invocation, st: State, values: string[]): void {
  const explicit = optionValues(inv.args, "t", ["--target-directory"], values);
  const ops = operands(inv.args, [...values, "-t", "--target-directory"]);
  const dest = explicit.length ? explicit : ops.length >= 2 ? ops.slice(-1) : [];
  for (const d of dest) write(d, st, `${inv.name} to ${d.text}`);
  // mv removes its sources: with -t every operand is one, else all but the last.
  const sources = explicit.length ? ops : ops.slice(0, -1);
  if (inv.name === "mv") for (const src of sources) write(src, st, `mv of ${src.text}`);
}

function everyOperand(inv: Invocation, st: State, values: string[]): void {
  for (const w of operands(inv.args, values)) write(w, st, `${inv.name} ${w.text}`);
}

function permissions(inv: Invocation, st: State): void {
  const ops = operands(inv.args, ["--reference"]);
  const files = inv.args.some((w) => w.text.startsWith("--reference")) ? ops : ops.slice(1);
  for (const w of files) write(w, st, `${inv.name} changing permissions of ${w.text}`);
}

function container(inv: Invocation): void {
  const t = inv.args.map((w) => w.text);
  const verb = t.find((x) => !x.startsWith("-"));
  if (!["run", "create", "exec"].includes(verb ?? "")) return;
  const bad = t.find(
    (x, i) =>
      x === "--privileged" ||
      /^--(pid|net|network|ipc|uts|userns)=host$/.test(x) ||
      (/^--(pid|net|network|ipc|uts|userns)$/.test(x) && t[i + 1] === "host") ||
      (/^--cap-add(=|$)/.test(x) && /(ALL|SYS_ADMIN)/i.test(x.includes("=") ? x : (t[i + 1] ?? ""))) ||
      ((x === "-v" || x === "--volume") && /^\/(:|$)/.test(t[i + 1] ?? "")) ||
      /^--volume=\/(:|$)/.test(x),
  );
  if (bad)
    refuse("container-privileged", `${inv.name} ${verb} ${bad} gives the container control of the host`);
}

/** `gh pr merge` / `glab mr merge` merge on the forge. */
function forge(inv: Invocation, noun: string): void {
  const t = operands(inv.args).map((w) => w.text);
  if (t[0] === noun && t[1] === "merge")
    refuse("git-merge", `\`${inv.name} ${noun} merge\` merges on the forge; GIMO never merges`);
}

function netcat(inv: Invocation): void {
  const t = inv.args.map((w) => w.text);
  if (
    t.some((x) => ["--listen", "--exec", "--sh-exec", "--lua-exec"].includes(x)) ||
    hasFlag(inv.args, "lec")
  ) {
    refuse("reverse-shell", `${inv.name} listening or executing a program serves a shell over the network`);
  }
}

function find(inv: Invocation, st: State): void {
  const words = inv.args;
  for (let i = 0; i < words.length; i++) {
    const t = (words[i] as Word).text;
    if (["-exec", "-execdir", "-ok", "-okdir"].includes(t)) {
      const end = words.findIndex((w, j) => j > i && (w.text === ";" || w.text === "+" || w.text === "\\;"));
      const body = words.slice(i + 1, end < 0 ? words.length : end).filter((w) => w.text !== "{}");
      st.check.simple({ type: "simple", words: body, redirects: [] }, st);
      i = end < 0 ? words.length : end;
    }
  }
  if (words.some((w) => w.text === "-delete")) {
    const roots = words.slice(
      0,
      Math.max(
        0,
        words.findIndex((w) => /^[-(!]/.test(w.text)),
      ),
    );
    for (const r of roots) write(r, st, `find ${r.text} -delete`);
  }
}

function changeDirectory(inv: Invocation, st: State): void {
  const target = operands(inv.args)[0];
  if (!target || target.text === "-") {
    st.cwd = target ? undefined : "/~home";
    return;
  }
  const { place: p, path } = place(target, st.cwd, st.ctx.workspace);
  st.cwd = p === "home" ? "/~home" : p === "unknown" ? undefined : path;
}
