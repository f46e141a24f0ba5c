import { hasFlag, operands, optionValues, type Place } from "./command-words.ts";
import type { Word } from "./shell-syntax.ts";

/**
 * The git part of the command policy. GIMO does the git work of a run itself — it commits on the
 * task branch and pushes it, never a protected branch, never a merge (SPEC §4) — so a command may
 * inspect, stage and commit locally, but not:
 *
 *  - push (`git push` in any form, `subtree push`, `send-pack`) → `git-push`;
 *  - merge (`git merge`, `git pull`, `subtree merge|pull`) → `git-merge`;
 *  - rebase onto a protected branch → `git-rebase-protected`;
 *  - check out / switch to a protected branch, or create one under that name → `git-checkout-protected`;
 *  - delete, force-move, rename or update-ref a protected branch → `git-branch-protected`;
 *  - `reset --hard` to a remote ref → `git-reset-remote`;
 *  - set config that stores credentials or makes git run a program (credential helpers, auth
 *    headers, URL rewrites, ssh commands, hooks, fsmonitor, filters, aliases), use `git credential`,
 *    or re-point a remote → `git-credentials` / `git-config-exec` / `git-remote`;
 *  - work on a repository outside the workspace (`-C`, `--work-tree`, `--git-dir`, a clone or init
 *    target, `--separate-git-dir`) →
 *    `write-outside-workspace`.
 *
 * Commands git itself runs (`submodule foreach`, `rebase --exec`) come back as `nested` scripts for
 * the policy to check like any other.
 */
export interface GitVerdict {
  block?: { rule: string; reason: string };
  nested: string[];
}

export interface GitContext {
  protectedBranches: string[];
  where(word: Word): Place;
}

const GLOBAL_VALUES = [
  "-C",
  "-c",
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--exec-path",
  "--config-env",
  "--super-prefix",
];
const READ_CONFIG = [
  "--get",
  "--get-all",
  "--get-regexp",
  "--get-urlmatch",
  "-l",
  "--list",
  "--name-only",
  "--show-origin",
  "--show-scope",
  "-e",
  "--edit",
  "get",
  "list",
  "edit",
];

export function checkGit(args: Word[], ctx: GitContext): GitVerdict {
  const verdict: GitVerdict = { nested: [] };
  const block = (rule: string, reason: string): GitVerdict => ({ ...verdict, block: { rule, reason } });
  let i = 0;
  for (; i < args.length; i++) {
    const t = (args[i] as Word).text;
    if (!t.startsWith("-")) break;
    const inline = t.includes("=") ? t.slice(t.indexOf("=") + 1) : undefined;
    const name = inline === undefined ? t : t.slice(0, t.indexOf("="));
    if (!GLOBAL_VALUES.includes(name)) continue;
    // `-C dir` or `--work-tree=dir`; an option missing its value is refused by git itself
    const valueWord: Word | undefined =
      inline === undefined ? args[++i] : { ...(args[i] as Word), text: inline, tilde: false };
    if (!valueWord) break;
    const value = valueWord.text;
    if ((name === "-C" || name === "--work-tree" || name === "--git-dir") && outside(ctx.where(valueWord))) {
      return block(
        "write-outside-workspace",
        `git ${name} ${value} works on a repository outside the workspace`,
      );
    }
    if (name === "-c" || name === "--config-env") {
      const refused = configKey(value.split("=")[0] ?? "", true);
      if (refused) return block(refused.rule, refused.reason);
    }
  }
  const sub = (args[i] as Word | undefined)?.text;
  const rest = args.slice(i + 1);
  const ops = (values: string[] = []) => operands(rest, values).map((w) => w.text);
  const prot = (ref: string | undefined) =>
    ref === undefined ? undefined : protectedRef(ref, ctx.protectedBranches);

  if (sub !== undefined && /[$`]/.test(sub)) {
    return block(
      "unverifiable",
      `the git subcommand (${sub}) comes from a variable or a substitution, so it cannot be checked`,
    );
  }
  switch (sub) {
    case "push":
    case "send-pack":
    case "http-push":
      return block(
        "git-push",
        "GIMO pushes the task branch itself when the run succeeds; commands must not `git push`",
      );
    case "merge":
    case "pull":
      return block(
        "git-merge",
        `\`git ${sub}\` merges branches; GIMO never merges — it leaves the task branch for review`,
      );
    case "subtree": {
      const verb = ops(["-P", "--prefix", "-m", "--message"])[0];
      if (verb === "push") return block("git-push", "`git subtree push` pushes; GIMO does the pushing");
      if (verb === "merge" || verb === "pull")
        return block("git-merge", `\`git subtree ${verb}\` merges; GIMO never merges`);
      return verdict;
    }
    case "rebase": {
      verdict.nested.push(...optionValues(rest, "x", ["--exec"]).map((w) => w.text));
      if (
        hasFlag(rest, "", [
          "--continue",
          "--abort",
          "--skip",
          "--quit",
          "--edit-todo",
          "--show-current-patch",
        ])
      )
        return verdict;
      const targets = [
        ...optionValues(rest, undefined, ["--onto"]).map((w) => w.text),
        ...ops(["-x", "--exec", "-s", "--strategy", "-X", "--strategy-option", "--onto"]),
      ];
      const hit = targets.map(prot).find(Boolean);
      return hit
        ? block(
            "git-rebase-protected",
            `rebasing onto the protected branch ${hit} is not allowed; GIMO bases the task branch itself`,
          )
        : verdict;
    }
    case "checkout":
    case "switch": {
      const created = optionValues(rest, undefined, [
        "-b",
        "-B",
        "-c",
        "-C",
        "--orphan",
        "--create",
        "--force-create",
      ]);
      const newName = created.map((w) => prot(w.text)).find(Boolean);
      if (newName)
        return block(
          "git-checkout-protected",
          `creating a branch named ${newName} is not allowed: it is protected`,
        );
      if (created.length) return verdict;
      const dashdash = rest.findIndex((w) => w.text === "--");
      const before = operands(dashdash < 0 ? rest : rest.slice(0, dashdash), [
        "--conflict",
        "--pathspec-from-file",
      ]).map((w) => w.text);
      const paths = dashdash < 0 ? before.slice(1) : rest.slice(dashdash + 1);
      const target = prot(before[0]);
      if (target && paths.length === 0) {
        return block(
          "git-checkout-protected",
          `\`git ${sub} ${before[0]}\` leaves the task branch for the protected branch ${target}`,
        );
      }
      return verdict;
    }
    case "branch": {
      if (!hasFlag(rest, "dDfmMcC", ["--delete", "--force", "--move", "--copy"])) return verdict;
      const hit = ops([
        "-u",
        "--set-upstream-to",
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--format",
        "--sort",
      ])
        .map(prot)
        .find(Boolean);
      return hit
        ? block(
            "git-branch-protected",
            `deleting, moving or forcing the protected branch ${hit} is not allowed`,
          )
        : verdict;
    }
    case "update-ref": {
      const hit = ops(["-m"]).slice(0, 1).map(prot).find(Boolean);
      return hit
        ? block("git-branch-protected", `\`git update-ref\` of the protected branch ${hit} is not allowed`)
        : verdict;
    }
    case "reset": {
      if (!hasFlag(rest, "", ["--hard"])) return verdict;
      const dashdash = rest.findIndex((w) => w.text === "--");
      const target = operands(dashdash < 0 ? rest : rest.slice(0, dashdash))[0]?.text;
      return target && remoteRef(target, ctx.protectedBranches)
        ? block(
            "git-reset-remote",
            `\`git reset --hard ${target}\` throws the task branch's work away for a remote state`,
          )
        : verdict;
    }
    case "config": {
      const all = rest.map((w) => w.text);
      if (all.some((t) => READ_CONFIG.includes(t))) return verdict;
      const names = ops(["-f", "--file", "--blob", "--type", "--default", "--comment"]).filter(
        (t) => !["set", "unset", "rename-section", "remove-section"].includes(t),
      );
      const refused = names[0] === undefined ? undefined : configKey(names[0], false);
      return refused ? block(refused.rule, refused.reason) : verdict;
    }
    case "credential":
    case "credential-store":
    case "credential-cache":
      return block(
        "git-credentials",
        "git credential helpers read and store passwords and tokens; GIMO handles credentials",
      );
    case "remote": {
      const verb = ops()[0];
      return verb === "add" || verb === "set-url" || verb === "rename"
        ? block(
            "git-remote",
            `\`git remote ${verb}\` changes where the repository fetches and pushes; GIMO owns the remote`,
          )
        : verdict;
    }
    case "submodule": {
      const o = ops();
      if (o[0] === "foreach") verdict.nested.push(o.slice(1).join(" "));
      return verdict;
    }
    case "clone":
    case "init": {
      const dest = operands(rest, [
        "-b",
        "--branch",
        "-o",
        "--origin",
        "--depth",
        "--reference",
        "-c",
        "--config",
        "--template",
        "--separate-git-dir",
        "-u",
        "--upload-pack",
        "--filter",
        "--jobs",
        "-j",
        "--initial-branch",
      ]);
      const gitDir = optionValues(rest, undefined, ["--separate-git-dir"])[0];
      if (gitDir && outside(ctx.where(gitDir)))
        return block(
          "write-outside-workspace",
          `\`git ${sub} --separate-git-dir\` puts the repository in ${gitDir.text}, outside the workspace`,
        );
      const target = sub === "clone" ? dest[1] : dest[0];
      return target && outside(ctx.where(target))
        ? block("write-outside-workspace", `\`git ${sub}\` into ${target.text}, outside the workspace`)
        : verdict;
    }
    default:
      return verdict;
  }
}

function outside(p: Place): boolean {
  return p === "outside" || p === "above" || p === "home";
}

/** Config keys a command must not set. `oneOff` (`git -c`) lasts one invocation inside the sandbox. */
function configKey(key: string, oneOff: boolean): { rule: string; reason: string } | undefined {
  const k = key.toLowerCase();
  if (/^credential(\.|$)/.test(k))
    return { rule: "git-credentials", reason: `git config ${key} stores or reveals credentials` };
  if (/^http\..*extraheader$/.test(k))
    return { rule: "git-credentials", reason: `git config ${key} adds authentication headers` };
  if (/^url\..+\.(push)?insteadof$/.test(k))
    return { rule: "git-remote", reason: `git config ${key} rewrites remote URLs` };
  if (/^remote\..+\.(push)?url$/.test(k))
    return { rule: "git-remote", reason: `git config ${key} changes where the repository pushes` };
  if (/^alias\./.test(k))
    return { rule: "git-config-exec", reason: `git config ${key}: an alias can hide a push or a merge` };
  if (oneOff) return undefined;
  if (
    /^(core\.(sshcommand|askpass|hookspath|fsmonitor|editor|pager|gitproxy)|sequence\.editor|gpg\.program|diff\..+\.textconv|diff\.external|filter\..+|merge\..+\.driver)$/.test(
      k,
    )
  ) {
    return {
      rule: "git-config-exec",
      reason: `git config ${key} makes git run a program, later and outside the sandbox`,
    };
  }
  return undefined;
}

/** The protected branch a ref names (`main`, `refs/heads/main`, `origin/main`, `main~2`), if any. */
export function protectedRef(ref: string, branches: string[]): string | undefined {
  const bare = ref.replace(/@\{.*\}$/, "").replace(/[~^].*$/, "");
  for (const b of branches) {
    if (bare === b || bare === `refs/heads/${b}` || bare === `refs/remotes/${bare.split("/")[2]}/${b}`)
      return b;
    if (bare.endsWith(`/${b}`) && bare.split("/").length === b.split("/").length + 1) return b;
  }
  return undefined;
}

function remoteRef(ref: string, branches: string[]): boolean {
  if (/^refs\/remotes\//.test(ref) || /@\{(u|upstream|push)\}/i.test(ref) || ref === "FETCH_HEAD")
    return true;
  if (/^(origin|upstream)\//.test(ref)) return true;
  const p = protectedRef(ref, branches);
  return p !== undefined && ref.replace(/[~^].*$/, "") !== p;
}
