/**
 * Workspace benchmark: what does GIMO's `prepareWorkspace` cost on a big repository, next to what
 * a person would run by hand?
 *
 *   npm run bench:workspace -- [--files 50000] [--runs 5]
 *
 * Once, into a temp dir: a repository of `--files` small files (50 top directories × 20
 * subdirectories × N files, 1–4 lines each), written as ONE commit with `git fast-import` (seconds,
 * no per-file process), checked out, plus a bare clone of it as `origin`.
 *
 * Then, `--runs` times each (after one untimed warm-up, so every row sees a warm page cache):
 *  - `git worktree add -b <branch> <dir> main`     the baseline: the least a worktree costs;
 *  - `git clone --local <repo> <dir>`              a full clone sharing objects by hard link;
 *  - `prepareWorkspace` on the repository WITHOUT a remote (worktree + GIMO's bookkeeping: lock,
 *    prune, branch checks, owner file, `--no-checkout` then `reset --hard`);
 *  - `prepareWorkspace` WITH `origin` (the same, plus `git fetch` of the remote's branches first);
 *  - as root, `prepareWorkspace` handed over to the sandbox user (every file chowned, GIMO's index
 *    refreshed): what running commands as an unprivileged uid costs at the start of a run;
 *  - removal: `removeWorkspace` against `git worktree remove --force`;
 *  - 4 `prepareWorkspace` at once: wall time, against 4× the mean of one.
 * Clean-up between iterations (removing worktrees, branches, clones) is not timed. Every row is a
 * mean of wall-clock times in this process (`performance.now()`), git's own child processes
 * included. Ratios are against the `git worktree add` row of the same run: compare those.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sandboxUser } from "../../src/runner/sandbox/identity.ts";
import {
  type PreparedWorkspace,
  prepareWorkspace,
  removeWorkspace,
  type WorkspaceProject,
} from "../../src/runner/workspace/workspace.ts";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "50000" },
    runs: { type: "string", default: "5" },
    dir: { type: "string", default: tmpdir() },
  },
});
const FILES = Number(values.files);
const RUNS = Number(values.runs);

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 })
    .toString()
    .trim();

/** One commit of FILES files, streamed to `git fast-import`. */
function generate(repo: string): void {
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  const chunks: string[] = [
    "commit refs/heads/main\n",
    "committer Bench <bench@localhost> 1700000000 +0000\n",
    "data 16\ninitial content\n",
  ];
  const perDir = Math.ceil(FILES / (50 * 20));
  let made = 0;
  for (let d = 0; d < 50 && made < FILES; d++) {
    for (let s = 0; s < 20 && made < FILES; s++) {
      for (let f = 0; f < perDir && made < FILES; f++, made++) {
        const body = `file ${made}\n${"line of content\n".repeat(made % 4)}`;
        chunks.push(
          `M 100644 inline pkg${d}/mod${s}/file${f}.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`,
        );
      }
    }
  }
  chunks.push("\n");
  execFileSync("git", ["fast-import", "--quiet"], { cwd: repo, input: chunks.join(""), maxBuffer: 1 << 30 });
  git(repo, "reset", "-q", "--hard", "main");
}

/** One thing measured: only `run` is timed; `setup` and `cleanup` around it are not. */
interface Variant {
  name: string;
  setup?: (i: number) => Promise<void>;
  run: (i: number) => Promise<void>;
  cleanup?: (i: number) => Promise<void>;
}

interface Row {
  name: string;
  times: number[];
}

/**
 * Round-robin: every round runs each variant once, starting one further along each round, so
 * drift in the machine (a disk that slows down as it works) lands on every row alike. Round 0 is
 * an untimed warm-up.
 */
async function rounds(variants: Variant[], runs: number): Promise<Row[]> {
  const rows = variants.map((v) => ({ name: v.name, times: [] as number[] }));
  for (let round = 0; round <= runs; round++) {
    for (let k = 0; k < variants.length; k++) {
      const index = (k + round) % variants.length;
      const v = variants[index] as Variant;
      const i = round * 100 + index;
      await v.setup?.(i);
      const t0 = performance.now();
      await v.run(i);
      const ms = performance.now() - t0;
      await v.cleanup?.(i);
      if (round > 0) rows[index]?.times.push(ms);
    }
  }
  return rows;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function print(rows: Row[]): void {
  const baseline = rows[0] as Row;
  const [bMean, bMedian] = [mean(baseline.times), median(baseline.times)];
  const n = (x: number) => x.toFixed(0).padStart(8);
  console.log(
    `${"".padEnd(48)}${"mean ms".padStart(8)}${"median".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}   vs ${baseline.name} (mean / median)`,
  );
  for (const row of rows) {
    const [m, md] = [mean(row.times), median(row.times)];
    const ratio =
      row === baseline ? "(baseline)" : `${(m / bMean).toFixed(2)}× / ${(md / bMedian).toFixed(2)}×`;
    console.log(
      `${row.name.padEnd(48)}${n(m)}${n(md)}${n(Math.min(...row.times))}${n(Math.max(...row.times))}   ${ratio}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(values.dir, "gimo-bench-ws-"));
  try {
    const repo = join(dir, "repo");
    const remote = join(dir, "remote.git");
    let t0 = performance.now();
    generate(repo);
    const made = Number(git(repo, "ls-files").split("\n").length);
    console.log(
      `repository: ${made} files, generated and checked out in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    t0 = performance.now();
    execFileSync("git", ["clone", "-q", "--bare", repo, remote]);
    console.log(`bare origin cloned in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(
      `git ${git(dir, "--version").replace("git version ", "")}, ${availableParallelism()} CPUs, ${RUNS} runs per row\n`,
    );

    const root = join(dir, "runner");
    const project = (withRemote: boolean): WorkspaceProject => ({
      repo_path: repo,
      remote: withRemote ? "origin" : "none",
      base_branch: "main",
      protected_branches: ["main"],
      branch_prefix: "task/",
    });
    git(repo, "remote", "add", "origin", remote);
    const spaces = new Map<number, PreparedWorkspace>();
    const dirOf = (i: number) => join(dir, `w-${i}`);
    let seq = 0; // every prepare gets a new task, so a new branch
    const user = sandboxUser();
    const prepare =
      (withRemote: boolean, handedOver = false) =>
      async (i: number) => {
        const id = seq++;
        const sandbox = handedOver ? { sandbox: { user } } : {};
        spaces.set(
          i,
          await prepareWorkspace(
            { runId: `r_${id}`, taskId: `t_${id}`, project: project(withRemote) },
            { root, ...sandbox },
          ),
        );
      };
    const dropPrepared = async (i: number) => {
      const ws = spaces.get(i);
      if (ws) await removeWorkspace(ws);
      spaces.delete(i);
    };
    console.log("preparing a workspace:");
    print(
      await rounds(
        [
          {
            name: "git worktree add",
            run: async (i) => void git(repo, "worktree", "add", "-q", "-b", `bench/${i}`, dirOf(i), "main"),
            cleanup: async (i) => {
              git(repo, "worktree", "remove", "--force", dirOf(i));
              git(repo, "branch", "-q", "-D", `bench/${i}`);
            },
          },
          {
            name: "git clone --local",
            run: async (i) => void execFileSync("git", ["clone", "-q", "--local", repo, dirOf(i)]),
            cleanup: async (i) => rmSync(dirOf(i), { recursive: true, force: true }),
          },
          { name: "prepareWorkspace (repo_path, no remote)", run: prepare(false), cleanup: dropPrepared },
          {
            name: "prepareWorkspace (repo_path, fetch from origin)",
            run: prepare(true),
            cleanup: dropPrepared,
          },
          ...(user
            ? [
                {
                  name: "prepareWorkspace, handed to the sandbox user",
                  run: prepare(false, true),
                  cleanup: dropPrepared,
                },
              ]
            : []),
        ],
        RUNS,
      ),
    );

    console.log("\nremoving it:");
    print(
      await rounds(
        [
          {
            name: "git worktree remove --force",
            setup: async (i) => void git(repo, "worktree", "add", "-q", "--detach", dirOf(i), "main"),
            run: async (i) => void git(repo, "worktree", "remove", "--force", dirOf(i)),
          },
          { name: "removeWorkspace", setup: prepare(false), run: dropPrepared },
        ],
        RUNS,
      ),
    );

    // Concurrency: 4 at once on one repository (lock for the worktree list, checkouts in parallel).
    const walls: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      const all = await Promise.all(
        [0, 1, 2, 3].map(() => {
          const id = seq++;
          return prepareWorkspace({ runId: `r_${id}`, taskId: `t_${id}`, project: project(false) }, { root });
        }),
      );
      walls.push(performance.now() - start);
      for (const w of all) await removeWorkspace(w);
    }
    const one = median(
      (
        await rounds(
          [
            {
              name: "one",
              run: async (i) => prepare(false)(i + 5_000),
              cleanup: async (i) => dropPrepared(i + 5_000),
            },
          ],
          RUNS,
        )
      )[0]?.times ?? [0],
    );
    console.log(
      `\n4 prepareWorkspace at once: median ${median(walls).toFixed(0)} ms wall; one alone: median ${one.toFixed(0)} ms (4 one after another ≈ ${(4 * one).toFixed(0)} ms, ${((4 * one) / median(walls)).toFixed(2)}× the concurrent wall time)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
