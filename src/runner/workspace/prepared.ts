/** A worktree prepared for a run (workspace.ts prepares it; commit.ts and push.ts work in it). */
export interface PreparedWorkspace {
  path: string;
  branch: string;
  baseBranch: string;
  baseSha: string;
  reusedBranch: boolean;
  /** The commit the worktree was checked out at: the parent of the run's commit. */
  startSha: string;
  /** The repository (or mirror) the worktree belongs to. */
  repoDir: string;
  /** Its git directory: the object store, refs and config GIMO's git uses. */
  commonDir: string;
  /** The worktree's own git directory in `commonDir` (HEAD, GIMO's index), never shown to commands. */
  gitDir: string;
  /** The remote pushes go to, by name in `repoDir`; null when the repository has none. */
  remote: string | null;
  /** That remote's URL without credentials; null when there is none. */
  remoteUrl: string | null;
  /** The lock serialising changes to `repoDir`'s worktree list. */
  lockFile: string;
}
