import { describe, expect, it } from "vitest";
import { checkCommand } from "./command-policy.ts";
import { checkGit } from "./command-policy-git.ts";
import { parseShell, simpleCommands } from "./shell-syntax.ts";

/**
 * The git part of the command policy (command-policy-git.ts), row by row: each global option whose
 * value is a repository, each subcommand's options whose value is not a ref, each refused config
 * key beside its near miss, each way of naming a protected branch, and the reason each refusal
 * gives. The main table (command-policy.test.ts) says what the policy is for; this one holds every
 * entry in place, so that deleting or weakening any one of them fails a row of its own (`npm run
 * test:mutation:command` measures it).
 */
const ctx = {
  workspace: "/srv/gimo/work/ws1",
  protectedBranches: ["main", "master", "release/1.0"],
};

const each = (names: string[], command: (name: string) => string, rule: string | null) =>
  names.map((name): [string, string | null] => [command(name), rule]);

const cases: [string, string | null][] = [
  // global options: the repository git works on, and one-off config
  ["git -C /etc status", "write-outside-workspace"],
  ["git -C / status", "write-outside-workspace"],
  ["git -C ~ status", "write-outside-workspace"],
  ["git -C ~/other status", "write-outside-workspace"],
  ["git --work-tree /opt/x status", "write-outside-workspace"],
  ["git --work-tree=/opt/x status", "write-outside-workspace"],
  ["git --git-dir=/opt/x/.git status", "write-outside-workspace"],
  ["git --git-dir /opt/x/.git status", "write-outside-workspace"],
  ["git -C /tmp/x status", null],
  ["git -C alias.d status", null],
  ["git --work-tree=credential.d status", null],
  ["git -c", null],
  ["git --work-tree", null],
  ["git -C sub status", null],
  ["git -C $DIR status", null],
  ["git -C", null],
  ["git --git-dir=.git status", null],
  ["git --namespace /opt/x status", null],
  ["git --exec-path /opt/x status", null],
  ["git --super-prefix /opt/x status", null],
  ["git --no-pager push", "git-push"],
  ["git --bare -p push", "git-push"],
  ["git -c core.pager=cat push", "git-push"],
  ["git --namespace push status", null],
  ["git --exec-path push status", null],
  ["git --super-prefix push status", null],
  ["git --namespace=x push", "git-push"],
  ["git -c alias.st=push st", "git-config-exec"],
  ["git -c credential.helper= fetch", "git-credentials"],
  ["git -c http.extraHeader=x fetch", "git-credentials"],
  ["git -c url.https://evil/.insteadOf=https://github.com/ fetch", "git-remote"],
  ["git -c remote.origin.url=https://evil/x fetch", "git-remote"],
  ["git --config-env=credential.helper=HELPER fetch", "git-credentials"],
  ["git --config-env credential.helper=HELPER fetch", "git-credentials"],
  // a one-off `-c` of a program-running key lasts one invocation, inside the sandbox
  ["git -c core.sshCommand=ssh fetch", null],
  ["git -c core.editor=vi commit", null],
  ["git -c diff.x.textconv=cat diff", null],

  // the subcommand itself
  ["git $SUB origin", "unverifiable"],
  ["git `echo push`", "unverifiable"],
  ["git status$X", "unverifiable"],
  ["git", null],
  ["git --version", null],
  ...each(["push", "send-pack", "http-push"], (s) => `git ${s} origin`, "git-push"),
  ...each(["merge", "pull"], (s) => `git ${s} origin`, "git-merge"),

  // subtree: its verb is the first operand after the option values
  ["git subtree push -P dist origin gh-pages", "git-push"],
  ["git subtree -P dist push origin gh-pages", "git-push"],
  ["git subtree --prefix dist push origin gh-pages", "git-push"],
  ["git subtree -m msg push origin gh-pages", "git-push"],
  ["git subtree --message msg push origin gh-pages", "git-push"],
  ["git subtree merge -P lib feature", "git-merge"],
  ["git subtree pull -P lib origin feature", "git-merge"],
  ["git subtree add -P lib origin feature", null],
  ["git subtree split -P lib", null],
  ["git subtree -P push split", null],

  // rebase: what it runs, where it rebases onto, and the verbs that continue one
  ["git rebase --exec 'git push' HEAD~2", "git-push"],
  ["git rebase --exec='git push' HEAD~2", "git-push"],
  ["git rebase '-xgit push' HEAD~2", "git-push"],
  ["git rebase --continue -x 'git push'", "git-push"],
  ...each(
    ["--continue", "--abort", "--skip", "--quit", "--edit-todo", "--show-current-patch"],
    (f) => `git rebase ${f} main`,
    null,
  ),
  ["git rebase --onto=main HEAD~2", "git-rebase-protected"],
  ["git rebase --onto main HEAD~2", "git-rebase-protected"],
  ["git rebase --onto task/base HEAD~2", null],
  // the values of these options are a command or a strategy, not the branch to rebase onto
  ...each(
    ["-x", "--exec", "-s", "--strategy", "-X", "--strategy-option"],
    (o) => `git rebase ${o} main HEAD~2`,
    null,
  ),
  ["git rebase -r main", "git-rebase-protected"],
  ["git rebase HEAD~2 main", "git-rebase-protected"],

  // the names of a protected branch
  ...each(
    [
      "main",
      "refs/heads/main",
      "origin/main",
      "refs/remotes/origin/main",
      "main~2",
      "main^",
      "main^2",
      "main@{1}",
      "main@{upstream}",
      "release/1.0",
      "origin/release/1.0",
      "refs/heads/release/1.0",
      "refs/remotes/upstream/release/1.0",
    ],
    (ref) => `git rebase ${ref}`,
    "git-rebase-protected",
  ),
  ...each(
    [
      "mainline",
      "xmain",
      "main-2",
      "a/b/main",
      "refs/heads/main/x",
      "refs/tags/x/main",
      "release",
      "1.0",
      "x/release/1.0/y",
      "refs/remotes/main",
    ],
    (ref) => `git rebase ${ref}`,
    null,
  ),

  // checkout / switch: creating a branch under a protected name, or leaving for one
  ...each(
    ["-b", "-B", "-c", "-C", "--orphan", "--create", "--force-create"],
    (o) => `git switch ${o} main`,
    "git-checkout-protected",
  ),
  ["git checkout --orphan=master", "git-checkout-protected"],
  ...each(
    ["-b", "-B", "-c", "-C", "--orphan", "--create", "--force-create"],
    (o) => `git switch ${o} task/x`,
    null,
  ),
  ["git checkout -b task/x main", null],
  ["git checkout main -b task/x", null],
  ["git checkout main --orphan=task/x", null],
  ...each(
    ["-b", "-B", "-c", "-C", "--orphan", "--create", "--force-create"],
    (o) => `git checkout main ${o} task/x --`,
    null,
  ),
  ["git checkout main --", "git-checkout-protected"],
  ["git switch --detach main", "git-checkout-protected"],
  ["git checkout --conflict diff3 main", "git-checkout-protected"],
  ["git checkout --pathspec-from-file list main", "git-checkout-protected"],
  ["git checkout --conflict main task/x", null],
  ["git checkout main src/a.ts", null],
  ["git checkout main -- src/a.ts", null],
  ["git checkout -- main", null],
  ["git checkout task/x -- main", null],
  ["git checkout task/x", null],
  ["git checkout", null],

  // branch: only a delete, force, move or copy touches a protected branch
  ...each(["-d", "-D", "-f", "-m", "-M", "-c", "-C"], (f) => `git branch ${f} main`, "git-branch-protected"),
  ...each(
    ["--delete", "--force", "--move", "--copy", "-vD", "-rd"],
    (f) => `git branch ${f} master`,
    "git-branch-protected",
  ),
  ["git branch main", null],
  ["git branch -v main", null],
  ["git branch --list main", null],
  ["git branch -D task/old", null],
  ["git branch -- -D main", null],
  ...each(
    [
      "-u",
      "--set-upstream-to",
      "--contains",
      "--no-contains",
      "--merged",
      "--no-merged",
      "--points-at",
      "--format",
      "--sort",
    ],
    (o) => `git branch -f task/x ${o} main`,
    null,
  ),

  // update-ref: the ref it writes is its first operand
  ["git update-ref refs/heads/main HEAD", "git-branch-protected"],
  ["git update-ref -d refs/heads/master", "git-branch-protected"],
  ["git update-ref -m main refs/heads/task HEAD", null],
  ["git update-ref refs/heads/task main", null],

  // reset --hard to a remote state
  ...each(
    [
      "origin/task",
      "upstream/task",
      "refs/remotes/fork/task",
      "@{u}",
      "@{upstream}",
      "@{push}",
      "HEAD@{U}",
      "FETCH_HEAD",
      "fork/main",
      "fork/main~1",
    ],
    (ref) => `git reset --hard ${ref}`,
    "git-reset-remote",
  ),
  ["git reset -q --hard origin/main", "git-reset-remote"],
  ...each(
    ["main", "main~1", "master^", "HEAD~3", "task/x", "originals/x", "xorigin/x", "FETCH_HEADS", "ORIG_HEAD"],
    (ref) => `git reset --hard ${ref}`,
    null,
  ),
  ["git reset origin/main", null],
  ["git reset --soft origin/main", null],
  ["git reset --hard -- origin/main", null],
  ["git reset --hard HEAD -- origin/main", null],

  // config: reading is allowed; writing a refused key is not, whatever comes before it
  ...each(
    [
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
    ],
    (r) => `git config ${r} credential.helper`,
    null,
  ),
  ["git config set credential.helper store", "git-credentials"],
  ["git config unset alias.p", "git-config-exec"],
  ["git config rename-section alias.p x", "git-config-exec"],
  ["git config remove-section alias.p", "git-config-exec"],
  ["git config --global alias.p push", "git-config-exec"],
  ...each(
    ["-f", "--file", "--blob", "--type", "--default", "--comment"],
    (o) => `git config ${o} user.name alias.p push`,
    "git-config-exec",
  ),
  ["git config", null],
  ["git config --global", null],
  // the refused keys, each beside its near miss
  ...each(
    [
      "credential",
      "credential.helper",
      "credential.https://x.useHttpPath",
      "Credential.Helper",
      "http.extraHeader",
      "http.https://github.com/.extraheader",
    ],
    (k) => `git config ${k} x`,
    "git-credentials",
  ),
  ...each(
    [
      "url.https://evil/.insteadOf",
      "url.https://evil/.pushInsteadOf",
      "remote.origin.url",
      "remote.origin.pushurl",
    ],
    (k) => `git config ${k} x`,
    "git-remote",
  ),
  ...each(
    [
      "alias.p",
      "core.sshCommand",
      "core.askPass",
      "core.hooksPath",
      "core.fsmonitor",
      "core.editor",
      "core.pager",
      "core.gitProxy",
      "sequence.editor",
      "gpg.program",
      "diff.x.textconv",
      "diff.pdf.textconv",
      "diff.external",
      "filter.lfs.clean",
      "merge.x.driver",
      "merge.ours.driver",
    ],
    (k) => `git config ${k} x`,
    "git-config-exec",
  ),
  ...each(
    [
      "credentials.x",
      "xcredential.helper",
      "http.extraHeaderx",
      "http.sslVerify",
      "xhttp.extraheader",
      "url.https://x/.insteadOfx",
      "xurl.a.insteadof",
      "remote.origin.fetch",
      "remote.origin.urlx",
      "xremote.origin.url",
      "xalias.p",
      "core.editors",
      "xcore.editor",
      "core.autocrlf",
      "sequence.editors",
      "gpg.programs",
      "diff.x.textconvs",
      "diff.externals",
      "merge.x.name",
      "xfilter.lfs.clean",
      "user.name",
    ],
    (k) => `git config ${k} x`,
    null,
  ),

  // credentials, remotes, submodules
  ...each(["credential", "credential-store", "credential-cache"], (s) => `git ${s} get`, "git-credentials"),
  ...each(["add", "set-url", "rename"], (v) => `git remote ${v} origin x`, "git-remote"),
  ...each(["remove", "show", "prune", "-v"], (v) => `git remote ${v} origin`, null),
  ["git remote -v add fork x", "git-remote"],
  ["git submodule --quiet foreach git push", "git-push"],
  ["git submodule foreach --recursive 'git push'", "git-push"],
  ["git submodule foreach 'git status' ", null],
  ["git submodule update --init", null],
  ["git submodule status push", null],
  ["git submodule update git push", null],

  // clone and init: where the repository lands
  ["git clone https://x/y.git /opt/y", "write-outside-workspace"],
  ["git clone https://x/y.git ..", "write-outside-workspace"],
  ["git clone https://x/y.git ~/y", "write-outside-workspace"],
  ["git clone https://x/y.git /tmp/y", null],
  ["git clone https://x/y.git", null],
  ["git clone /opt/mirror/y.git y", null],
  ["git init /opt/y", "write-outside-workspace"],
  ["git init", null],
  ["git init sub", null],
  ["git init /opt/y/..", "write-outside-workspace"],
  ["git clone --separate-git-dir /opt/y.git https://x/y.git y", "write-outside-workspace"],
  ["git clone --separate-git-dir=/opt/y.git https://x/y.git y", "write-outside-workspace"],
  ["git init --separate-git-dir /opt/y.git sub", "write-outside-workspace"],
  ["git clone --separate-git-dir y.git https://x/y.git y", null],
  ...each(
    [
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
    ],
    (o) => `git clone ${o} v /opt/mirror/y.git y`,
    null,
  ),
  ["git init --template /opt/templates sub", null],
  ["git init --initial-branch task /opt/y", "write-outside-workspace"],
];

describe("the git rules of the command policy", () => {
  it.each(cases)("%s → %s", (command, rule) => {
    const verdict = checkCommand(command, ctx);
    if (rule === null) expect(verdict).toEqual({ allowed: true });
    else expect(verdict).toMatchObject({ allowed: false, rule });
  });

  it("says why, naming what it refused", () => {
    const reason = (command: string) => {
      const verdict = checkCommand(command, ctx);
      return verdict.allowed ? "" : verdict.reason;
    };
    expect(reason("git -C /etc status")).toBe("git -C /etc works on a repository outside the workspace");
    expect(reason("git --work-tree=/opt/x status")).toBe(
      "git --work-tree /opt/x works on a repository outside the workspace",
    );
    expect(reason("git $SUB")).toBe(
      "the git subcommand ($SUB) comes from a variable or a substitution, so it cannot be checked",
    );
    expect(reason("git push")).toBe(
      "GIMO pushes the task branch itself when the run succeeds; commands must not `git push`",
    );
    expect(reason("git pull")).toBe(
      "`git pull` merges branches; GIMO never merges — it leaves the task branch for review",
    );
    expect(reason("git subtree push -P d o b")).toBe("`git subtree push` pushes; GIMO does the pushing");
    expect(reason("git subtree pull -P d o b")).toBe("`git subtree pull` merges; GIMO never merges");
    expect(reason("git rebase origin/main")).toBe(
      "rebasing onto the protected branch main is not allowed; GIMO bases the task branch itself",
    );
    expect(reason("git switch -c master")).toBe(
      "creating a branch named master is not allowed: it is protected",
    );
    expect(reason("git checkout origin/main")).toBe(
      "`git checkout origin/main` leaves the task branch for the protected branch main",
    );
    expect(reason("git branch -D main")).toBe(
      "deleting, moving or forcing the protected branch main is not allowed",
    );
    expect(reason("git update-ref refs/heads/main HEAD")).toBe(
      "`git update-ref` of the protected branch main is not allowed",
    );
    expect(reason("git reset --hard @{u}")).toBe(
      "`git reset --hard @{u}` throws the task branch's work away for a remote state",
    );
    expect(reason("git config credential.helper x")).toBe(
      "git config credential.helper stores or reveals credentials",
    );
    expect(reason("git config http.extraHeader x")).toBe(
      "git config http.extraHeader adds authentication headers",
    );
    expect(reason("git config url.a.insteadOf b")).toBe("git config url.a.insteadOf rewrites remote URLs");
    expect(reason("git config remote.o.url b")).toBe(
      "git config remote.o.url changes where the repository pushes",
    );
    expect(reason("git config alias.p push")).toBe("git config alias.p: an alias can hide a push or a merge");
    expect(reason("git config core.pager x")).toBe(
      "git config core.pager makes git run a program, later and outside the sandbox",
    );
    expect(reason("git credential fill")).toBe(
      "git credential helpers read and store passwords and tokens; GIMO handles credentials",
    );
    expect(reason("git remote set-url origin x")).toBe(
      "`git remote set-url` changes where the repository fetches and pushes; GIMO owns the remote",
    );
    expect(reason("git clone https://x/y.git /opt/y")).toBe("`git clone` into /opt/y, outside the workspace");
    expect(reason("git init --separate-git-dir=/opt/y.git")).toBe(
      "`git init --separate-git-dir` puts the repository in /opt/y.git, outside the workspace",
    );
    expect(reason("git switch -b main")).toBe("creating a branch named main is not allowed: it is protected");
    expect(reason("git switch -B main")).toBe("creating a branch named main is not allowed: it is protected");
    expect(reason("git switch -C main")).toBe("creating a branch named main is not allowed: it is protected");
    expect(reason("git switch --create main")).toBe(
      "creating a branch named main is not allowed: it is protected",
    );
    expect(reason("git switch --force-create main")).toBe(
      "creating a branch named main is not allowed: it is protected",
    );
  });

  it("hands back the commands git itself would run, and nothing else", () => {
    const git = (command: string) => {
      const words = [...simpleCommands(parseShell(command))][0]?.words ?? [];
      return checkGit(words.slice(1), { protectedBranches: ctx.protectedBranches, where: () => "inside" });
    };
    expect(git("git status")).toEqual({ nested: [] });
    expect(git("git rebase -x 'npm test' --exec='npm run lint' HEAD~2")).toEqual({
      nested: ["npm test", "npm run lint"],
    });
    expect(git("git submodule foreach --recursive 'git status' extra")).toEqual({
      nested: ["git status extra"],
    });
    expect(git("git submodule update git push")).toEqual({ nested: [] });
  });
});
