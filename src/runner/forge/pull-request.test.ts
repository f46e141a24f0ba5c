import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GimoError } from "../../core/errors.ts";
import { ForgeError, forgeRequest } from "./http.ts";
import { type DraftPullRequestInput, openDraftPullRequest } from "./pull-request.ts";

/** A fake forge: real HTTP, answers scripted per "METHOD path", records every request exactly. */
interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | "hang";

let server: Server;
let base: string;
let requests: Recorded[];
const everyRequest: Recorded[] = [];
let replies: Map<string, Reply[]>;

function reply(method: string, path: string, ...answers: Reply[]) {
  replies.set(`${method} ${path}`, answers);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => {
      raw += c;
    });
    req.on("end", () => {
      const rec: Recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
        body: raw ? JSON.parse(raw) : undefined,
      };
      requests.push(rec);
      everyRequest.push(rec);
      const queue = replies.get(`${rec.method} ${rec.path}`);
      const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      if (answer === "hang") {
        setTimeout(() => res.destroy(), 1_000);
        return;
      }
      if (!answer) {
        res
          .writeHead(404, { "content-type": "application/json", connection: "close" })
          .end(JSON.stringify({ message: "Not Found" }));
        return;
      }
      res.writeHead(answer.status, {
        "content-type": "application/json",
        connection: "close",
        ...answer.headers,
      });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // Across every test of this file: nothing but GET and POST, and never a merge endpoint.
  expect(everyRequest.length).toBeGreaterThan(10);
  for (const r of everyRequest) {
    expect(["GET", "POST"]).toContain(r.method);
    expect(r.path).not.toMatch(/\/merge(\/|\?|$)/);
  }
});
beforeEach(() => {
  requests = [];
  replies = new Map();
});

const TOKEN = "tok_Sup3rSecret";

function input(over: Partial<DraftPullRequestInput> = {}): DraftPullRequestInput {
  return {
    kind: "github",
    api_url: `${base}/api/v3`,
    token: TOKEN,
    remoteUrl: "git@github.com:octo/shop.git",
    head: "task/t_1",
    base: "main",
    title: "Validate negative stock",
    body: "Refuses negative quantities.\n\nGimo-Run: r_1",
    ...over,
  };
}

describe("GitHub", () => {
  const list = "/api/v3/repos/octo/shop/pulls?head=octo%3Atask%2Ft_1&state=open&per_page=10";

  it("opens a draft pull request with exactly the expected requests", async () => {
    reply("GET", list, { status: 200, body: [] });
    reply("POST", "/api/v3/repos/octo/shop/pulls", {
      status: 201,
      body: { html_url: "https://github.com/octo/shop/pull/7", number: 7 },
    });
    const pr = await openDraftPullRequest(input());
    expect(pr).toEqual({ url: "https://github.com/octo/shop/pull/7", number: 7, existing: false });
    expect(requests).toEqual([
      {
        method: "GET",
        path: list,
        authorization: `Bearer ${TOKEN}`,
        contentType: undefined,
        body: undefined,
      },
      {
        method: "POST",
        path: "/api/v3/repos/octo/shop/pulls",
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: {
          title: "Validate negative stock",
          head: "task/t_1",
          base: "main",
          body: input().body,
          draft: true,
        },
      },
    ]);
  });

  it("returns the open pull request for the branch instead of opening another", async () => {
    reply("GET", list, {
      status: 200,
      body: [{ html_url: "https://github.com/octo/shop/pull/3", number: 3 }],
    });
    expect(await openDraftPullRequest(input())).toEqual({
      url: "https://github.com/octo/shop/pull/3",
      number: 3,
      existing: true,
    });
    expect(requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("after losing a race (422 already exists) returns the one that won", async () => {
    reply("GET", list, { status: 200, body: [] }, { status: 200, body: [{ html_url: "u", number: 9 }] });
    reply("POST", "/api/v3/repos/octo/shop/pulls", {
      status: 422,
      body: {
        message: "Validation Failed",
        errors: [{ message: "A pull request already exists for octo:task/t_1." }],
      },
    });
    expect(await openDraftPullRequest(input())).toEqual({ url: "u", number: 9, existing: true });
    expect(requests.map((r) => r.method)).toEqual(["GET", "POST", "GET"]);
  });

  it("takes the repository as given, and adds /api/v3 to a bare Enterprise api_url", async () => {
    reply("GET", "/api/v3/repos/acme/app/pulls?head=acme%3Atask%2Ft_1&state=open&per_page=10", {
      status: 200,
      body: [{ html_url: "x", number: 1 }],
    });
    await openDraftPullRequest(input({ api_url: base, repo: "acme/app", remoteUrl: null }));
    expect(requests).toHaveLength(1);
  });

  it.each([
    [401, { message: `Bad credentials for ${TOKEN}` }, "forge_auth", false],
    [404, { message: "Not Found" }, "forge_not_found", false],
    [
      422,
      {
        message: "Validation Failed",
        errors: [{ message: "Draft pull requests are not supported in this repository." }],
      },
      "forge_rejected",
      false,
    ],
    [500, { message: "oops" }, "forge_unavailable", true],
    [429, { message: "slow down" }, "forge_rate_limited", true],
  ])("a %i is a typed, readable error without the token", async (status, body, code, retryable) => {
    reply("GET", list, { status: 200, body: [] });
    reply("POST", "/api/v3/repos/octo/shop/pulls", { status, body });
    const error = (await openDraftPullRequest(input()).catch((e) => e)) as ForgeError;
    expect(error).toBeInstanceOf(ForgeError);
    expect(error.failure).toBe(code);
    expect(error).toBeInstanceOf(GimoError);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toMatch(/^github/);
    expect(error.message).not.toContain(TOKEN);
    if (status === 422) expect(error.message).toContain("Draft pull requests are not supported");
  });

  it("a 403 with the rate limit spent is a rate limit, not an auth failure", async () => {
    reply("GET", list, {
      status: 403,
      body: { message: "API rate limit exceeded" },
      headers: { "x-ratelimit-remaining": "0" },
    });
    expect(await openDraftPullRequest(input()).catch((e) => e.failure)).toBe("forge_rate_limited");
  });

  it("times out", async () => {
    reply("GET", list, "hang");
    const error = (await openDraftPullRequest(input({ timeoutMs: 200 })).catch((e) => e)) as ForgeError;
    expect(error.failure).toBe("forge_timeout");
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("github: GET /repos/octo/shop/pulls timed out after 200 ms");
  });

  it("refuses to start without a token or a repository", async () => {
    await expect(openDraftPullRequest(input({ token: "" }))).rejects.toThrow(/no github token/);
    await expect(openDraftPullRequest(input({ remoteUrl: "/srv/repo.git" }))).rejects.toThrow(
      /cannot tell the github repository/,
    );
    expect(requests).toEqual([]);
  });
});

describe("GitLab", () => {
  const list =
    "/api/v4/projects/grp%2Fsub%2Fshop/merge_requests?source_branch=task%2Ft_1&target_branch=main&state=opened";

  it("opens a Draft: merge request on the nested project, Bearer auth", async () => {
    reply("GET", list, { status: 200, body: [] });
    reply("POST", "/api/v4/projects/grp%2Fsub%2Fshop/merge_requests", {
      status: 201,
      body: { web_url: "https://gl/mr/4", iid: 4, id: 991 },
    });
    const pr = await openDraftPullRequest(
      input({
        kind: "gitlab",
        api_url: base,
        remoteUrl: "https://oauth2:pw@gitlab.example.com/grp/sub/shop.git",
      }),
    );
    expect(pr).toEqual({ url: "https://gl/mr/4", number: 4, existing: false });
    expect(requests[1]).toEqual({
      method: "POST",
      path: "/api/v4/projects/grp%2Fsub%2Fshop/merge_requests",
      authorization: `Bearer ${TOKEN}`,
      contentType: "application/json",
      body: {
        source_branch: "task/t_1",
        target_branch: "main",
        title: "Draft: Validate negative stock",
        description: input().body,
        remove_source_branch: false,
      },
    });
  });

  it("returns the open merge request, and recovers from a 409 race", async () => {
    reply("GET", list, { status: 200, body: [{ web_url: "https://gl/mr/2", iid: 2 }] });
    const gl = input({
      kind: "gitlab",
      api_url: `${base}/api/v4`,
      repo: "grp/sub/shop",
      title: "Draft: already",
    });
    expect(await openDraftPullRequest(gl)).toEqual({ url: "https://gl/mr/2", number: 2, existing: true });

    reply(
      "GET",
      list,
      { status: 200, body: [] },
      { status: 200, body: [{ web_url: "https://gl/mr/5", iid: 5 }] },
    );
    reply("POST", "/api/v4/projects/grp%2Fsub%2Fshop/merge_requests", {
      status: 409,
      body: { message: ["Another open merge request already exists for this source branch: !5"] },
    });
    requests = [];
    expect(await openDraftPullRequest(gl)).toEqual({ url: "https://gl/mr/5", number: 5, existing: true });
    expect(requests[1]?.body).toMatchObject({ title: "Draft: already" });
  });
});

describe("Gitea", () => {
  it("opens a WIP: pull request with token auth, after paging through the open ones", async () => {
    const others = Array.from({ length: 50 }, (_, i) => ({
      html_url: `o${i}`,
      number: i,
      head: { ref: `other/${i}` },
    }));
    reply("GET", "/api/v1/repos/octo/shop/pulls?state=open&limit=50&page=1", { status: 200, body: others });
    reply("GET", "/api/v1/repos/octo/shop/pulls?state=open&limit=50&page=2", { status: 200, body: [] });
    reply("POST", "/api/v1/repos/octo/shop/pulls", {
      status: 201,
      body: { html_url: "https://gitea/octo/shop/pulls/51", number: 51 },
    });
    const pr = await openDraftPullRequest(
      input({ kind: "gitea", api_url: base, remoteUrl: "ssh://git@gitea.example:2222/octo/shop.git" }),
    );
    expect(pr).toEqual({ url: "https://gitea/octo/shop/pulls/51", number: 51, existing: false });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/v1/repos/octo/shop/pulls?state=open&limit=50&page=1",
      "GET /api/v1/repos/octo/shop/pulls?state=open&limit=50&page=2",
      "POST /api/v1/repos/octo/shop/pulls",
    ]);
    expect(requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
    expect(requests[2]?.body).toEqual({
      head: "task/t_1",
      base: "main",
      title: "WIP: Validate negative stock",
      body: input().body,
    });
  });

  it("returns the open pull request whose head is the branch", async () => {
    reply("GET", "/api/v1/repos/octo/shop/pulls?state=open&limit=50&page=1", {
      status: 200,
      body: [{ html_url: "mine", number: 8, head: { ref: "task/t_1" } }],
    });
    expect(
      await openDraftPullRequest(input({ kind: "gitea", api_url: `${base}/api/v1`, repo: "octo/shop" })),
    ).toEqual({
      url: "mine",
      number: 8,
      existing: true,
    });
  });
});

describe("never a merge", () => {
  it.each([
    ["PUT", "/repos/o/r/pulls/1/merge"],
    ["POST", "/repos/o/r/pulls/1/merge"],
    ["PUT", "/projects/1/merge_requests/1/merge"],
    ["POST", "/repos/o/r/pulls/1/merge?x=1"],
    ["PATCH", "/repos/o/r/pulls/1"],
  ])("refuses %s %s without sending it", async (method, path) => {
    const client = { kind: "github" as const, root: base, headers: {}, token: TOKEN, timeoutMs: 1_000 };
    const error = await forgeRequest(client, method as "POST", path).catch((e) => e);
    expect(error).toBeInstanceOf(ForgeError);
    expect(error.failure).toBe("forge_refused");
    expect(requests).toEqual([]);
  });
});
