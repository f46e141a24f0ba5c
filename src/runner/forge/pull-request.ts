import { type ForgeClient, ForgeError, type ForgeKind, forgeRequest, serverMessage } from "./http.ts";
import { apiRoot, repoFor } from "./remote-url.ts";

/**
 * Draft pull (merge) requests for a pushed task branch (SPEC §4.1, `pull_request: draft`).
 *
 *   github  GET  /repos/{o}/{r}/pulls?head={o}:{branch}&state=open      an open one → returned
 *           POST /repos/{o}/{r}/pulls {title, head, base, body, draft: true}
 *   gitlab  GET  /projects/{id}/merge_requests?source_branch=…&target_branch=…&state=opened
 *           POST /projects/{id}/merge_requests {source_branch, target_branch, title: "Draft: …", description}
 *   gitea   GET  /repos/{o}/{r}/pulls?state=open&limit=50&page=n         (head.ref = branch)
 *           POST /repos/{o}/{r}/pulls {head, base, title: "WIP: …", body}
 *
 * Idempotent: an open request for the branch is looked up first and returned as it is, and a
 * create that loses a race ("already exists": 422 on GitHub, 409 on GitLab and Gitea) looks again.
 * GitLab's `{id}` is the URL-encoded project path (`group%2Fsub%2Fname`). Auth headers:
 * `Authorization: Bearer` (GitHub, GitLab), `Authorization: token` (Gitea). Every call has a
 * timeout (15 s unless `timeoutMs`). Nothing here merges, approves or closes: `http.ts` refuses any
 * merge endpoint and any method but GET and POST.
 */
export interface DraftPullRequestInput {
  kind: ForgeKind;
  /** The forge's API root; derived from the remote's host when absent. */
  api_url?: string | undefined;
  token: string;
  /** `owner/name` (GitLab: `group/…/name`); parsed from `remoteUrl` when absent. */
  repo?: string | undefined;
  remoteUrl?: string | null | undefined;
  head: string;
  base: string;
  title: string;
  body: string;
  timeoutMs?: number;
}

export interface PullRequestRef {
  url: string;
  number: number;
  /** True when the request existed already and was returned as it was. */
  existing: boolean;
}

export async function openDraftPullRequest(input: DraftPullRequestInput): Promise<PullRequestRef> {
  if (!input.token)
    throw new ForgeError(
      "forge_config",
      input.kind,
      `no ${input.kind} token: set forge.token on the project`,
    );
  const repo = repoFor(input.kind, input);
  const client: ForgeClient = {
    kind: input.kind,
    root: apiRoot(input.kind, input.api_url, repo.host),
    headers: headersFor(input.kind, input.token),
    token: input.token,
    timeoutMs: input.timeoutMs ?? 15_000,
  };
  const forge = FORGES[input.kind];
  const found = await forge.find(client, repo.path, input);
  if (found) return { ...found, existing: true };
  const created = await forge.create(client, repo.path, input);
  if (created) return { ...created, existing: false };
  const raced = await forge.find(client, repo.path, input);
  if (raced) return { ...raced, existing: true };
  throw new ForgeError(
    "forge_rejected",
    input.kind,
    `${input.kind} said a request for ${input.head} exists but none is open`,
  );
}

type Ref = { url: string; number: number };

interface Forge {
  find(client: ForgeClient, repo: string, input: DraftPullRequestInput): Promise<Ref | undefined>;
  /** undefined: the forge says one exists already. */
  create(client: ForgeClient, repo: string, input: DraftPullRequestInput): Promise<Ref | undefined>;
}

function headersFor(kind: ForgeKind, token: string): Record<string, string> {
  const common = { Accept: "application/json", "User-Agent": "gimo" };
  if (kind === "github") {
    return {
      ...common,
      Accept: "application/vnd.github+json",
      "X-GitHub-Api-Version": "2022-11-28",
      Authorization: `Bearer ${token}`,
    };
  }
  return { ...common, Authorization: kind === "gitlab" ? `Bearer ${token}` : `token ${token}` };
}

const q = encodeURIComponent;
const ALREADY = /already exist/i;

const github: Forge = {
  async find(client, repo, input) {
    const owner = repo.split("/")[0] as string;
    const res = await forgeRequest(
      client,
      "GET",
      `/repos/${repo}/pulls?head=${q(`${owner}:${input.head}`)}&state=open&per_page=10`,
    );
    const first = list(client, res.body)[0];
    return first ? ref(client, first, "html_url", "number") : undefined;
  },
  async create(client, repo, input) {
    const body = { title: input.title, head: input.head, base: input.base, body: input.body, draft: true };
    const res = await forgeRequest(client, "POST", `/repos/${repo}/pulls`, body, [422]);
    if (res.status === 422) return alreadyOr(client, res.status, res.body);
    return ref(client, res.body, "html_url", "number");
  },
};

const gitlab: Forge = {
  async find(client, repo, input) {
    const query = `source_branch=${q(input.head)}&target_branch=${q(input.base)}&state=opened`;
    const res = await forgeRequest(client, "GET", `/projects/${q(repo)}/merge_requests?${query}`);
    const first = list(client, res.body)[0];
    return first ? ref(client, first, "web_url", "iid") : undefined;
  },
  async create(client, repo, input) {
    const body = {
      source_branch: input.head,
      target_branch: input.base,
      title: prefixed("Draft: ", input.title, /^(draft:|\[draft\]|\(draft\))\s*/i),
      description: input.body,
      remove_source_branch: false,
    };
    const res = await forgeRequest(client, "POST", `/projects/${q(repo)}/merge_requests`, body, [409]);
    if (res.status === 409) return alreadyOr(client, res.status, res.body);
    return ref(client, res.body, "web_url", "iid");
  },
};

const gitea: Forge = {
  async find(client, repo, input) {
    for (let page = 1; page <= 5; page++) {
      const res = await forgeRequest(client, "GET", `/repos/${repo}/pulls?state=open&limit=50&page=${page}`);
      const items = list(client, res.body);
      const mine = items.find((p) => (p as { head?: { ref?: string } }).head?.ref === input.head);
      if (mine) return ref(client, mine, "html_url", "number");
      if (items.length < 50) return undefined;
    }
    return undefined;
  },
  async create(client, repo, input) {
    const body = {
      head: input.head,
      base: input.base,
      title: prefixed("WIP: ", input.title, /^(wip:|\[wip\])\s*/i),
      body: input.body,
    };
    const res = await forgeRequest(client, "POST", `/repos/${repo}/pulls`, body, [409]);
    if (res.status === 409) return alreadyOr(client, res.status, res.body);
    return ref(client, res.body, "html_url", "number");
  },
};

const FORGES: Record<ForgeKind, Forge> = { github, gitlab, gitea };

function prefixed(prefix: string, title: string, already: RegExp): string {
  return already.test(title) ? title : prefix + title;
}

function list(client: ForgeClient, body: unknown): unknown[] {
  if (!Array.isArray(body))
    throw new ForgeError(
      "forge_bad_response",
      client.kind,
      `${client.kind}: expected a list of pull requests`,
    );
  return body;
}

function ref(client: ForgeClient, body: unknown, urlKey: string, numberKey: string): Ref {
  const b = (body ?? {}) as Record<string, unknown>;
  const url = b[urlKey];
  const number = b[numberKey];
  if (typeof url !== "string" || typeof number !== "number") {
    throw new ForgeError(
      "forge_bad_response",
      client.kind,
      `${client.kind}: the answer has no ${urlKey} and ${numberKey}`,
    );
  }
  return { url, number };
}

/** A 409/422 that says "already exists" means look it up; any other is a readable refusal. */
function alreadyOr(client: ForgeClient, status: number, body: unknown): undefined {
  const detail = serverMessage(body).split(client.token).join("[redacted]");
  if (ALREADY.test(detail)) return undefined;
  throw new ForgeError(
    "forge_rejected",
    client.kind,
    `${client.kind} refused the pull request (${status}): ${detail}`,
    status,
  );
}
