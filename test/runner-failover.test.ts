import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GimoClientError } from "../src/client/client.ts";
import { serverUrls } from "../src/operators/cli/runner.ts";
import { LeaseLost } from "../src/runner/api.ts";
import { HttpRunnerApi } from "../src/runner/http-api.ts";
import { startGimo, type TestGimo } from "./support/harness.ts";
import { queueRuns } from "./support/runs.ts";

/**
 * A runner given several server URLs (`gimo runner --server A,B`) fails over when a call gets no
 * HTTP answer — against real servers: a GIMO, a port nothing listens on any more, and a server
 * that answers every call with an HTTP error (which must not be retried elsewhere).
 */
describe("runner failover between server URLs", () => {
  let g: TestGimo;
  let closedUrl: string;
  let refusing: Server;
  let refusingUrl: string;
  let refusingHits = 0;
  let short: TestGimo; // a lease of 2 s
  beforeAll(async () => {
    g = await startGimo("sqlite", { retryBaseSeconds: 0 });
    short = await startGimo("sqlite", { retryBaseSeconds: 0, leaseSeconds: 2 });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r)); // a real server, now closed: connections are refused
    refusing = createServer((_req, res) => {
      refusingHits++;
      res.writeHead(409, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "lease_lost", message: "not yours" } }));
    });
    await new Promise<void>((r) => refusing.listen(0, "127.0.0.1", r));
    refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await g?.close();
    await short?.close();
    await new Promise((r) => refusing?.close(r));
  });

  it("moves past a closed server to the next one and stays there", async () => {
    const api = new HttpRunnerApi([closedUrl, g.url], g.tokens.runner);
    expect(api.currentUrl).toBe(closedUrl);
    const reg = await api.register({ name: "failover", labels: [], capacity: 1 });
    expect(api.currentUrl).toBe(g.url);
    const [id] = await queueRuns(g, 1);
    const claimed = await api.claim(reg.runner_id, 0);
    expect(claimed?.run.id).toBe(id);
    const fence = { runId: id as string, attempt: claimed?.run.attempt ?? 0, runnerId: reg.runner_id };
    await api.complete(fence, { status: "succeeded" });
    expect((await g.request("GET", `/ops/runs/${id}`)).body.status).toBe("succeeded");
    expect(api.currentUrl).toBe(g.url);
  });

  it("tries each other server in turn, in the order given", async () => {
    const api = new HttpRunnerApi([closedUrl, `${closedUrl}/`, g.url], g.tokens.runner);
    await api.register({ name: "third", labels: [], capacity: 1 });
    expect(api.currentUrl).toBe(g.url);
  });

  it("an HTTP error answer is the server's word: no failover, and a 409 is LeaseLost", async () => {
    const api = new HttpRunnerApi([refusingUrl, g.url], g.tokens.runner);
    const before = refusingHits;
    await expect(api.register({ name: "x", labels: [], capacity: 1 })).rejects.toBeInstanceOf(
      GimoClientError,
    );
    await expect(
      api.complete({ runId: "run_x", attempt: 1, runnerId: "rnr_x" }, { status: "succeeded" }),
    ).rejects.toBeInstanceOf(LeaseLost);
    expect(refusingHits - before).toBe(2);
    expect(api.currentUrl).toBe(refusingUrl);
  });

  it("every server unreachable: the connection error comes back after one try each", async () => {
    const api = new HttpRunnerApi([closedUrl, `${closedUrl}/`], g.tokens.runner);
    const error = await api.register({ name: "x", labels: [], capacity: 1 }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(GimoClientError);
    expect(String((error as { code?: string }).code)).toBe("ECONNREFUSED");
  });

  it("a silent server (stopped after the connection was made): lease calls move on within half the lease", async () => {
    // A server that relays to GIMO until it falls silent: then it takes requests and never answers,
    // as a SIGSTOPped replica does.
    let silent = false;
    const held: ServerResponse[] = [];
    const relay = createServer(async (req, res) => {
      if (silent) return void held.push(res);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await fetch(`${short.url}${req.url}`, {
        method: req.method,
        headers: { "content-type": "application/json", authorization: String(req.headers.authorization) },
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(await answer.text());
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    try {
      const api = new HttpRunnerApi([relayUrl, short.url], short.tokens.runner);
      const reg = await api.register({ name: "silent", labels: [], capacity: 1 });
      expect(reg.lease_seconds).toBe(2);
      const [id] = await queueRuns(short, 1);
      const claimed = await api.claim(reg.runner_id, 0);
      expect(claimed?.run.id).toBe(id);
      expect(api.currentUrl).toBe(relayUrl);
      silent = true;
      const fence = { runId: id as string, attempt: claimed?.run.attempt ?? 0, runnerId: reg.runner_id };
      const t0 = Date.now();
      await api.extendLease(fence); // timed out on the silent one after 1 s, renewed on the other
      expect(Date.now() - t0).toBeLessThan(1_900);
      expect(api.currentUrl).toBe(short.url);
      expect(held.length).toBe(1);
      await api.complete(fence, { status: "succeeded" });
      expect((await short.request("GET", `/ops/runs/${id}`)).body.status).toBe("succeeded");
    } finally {
      for (const res of held) res.destroy();
      await new Promise((r) => relay.close(r));
    }
  });

  it("server lists: repeated and comma-separated, in order, blanks and repeats dropped", () => {
    expect(serverUrls("http://a:1, http://b:2,,")).toEqual(["http://a:1", "http://b:2"]);
    expect(serverUrls(["http://a:1", "http://b:2,http://a:1", "http://c:3"])).toEqual([
      "http://a:1",
      "http://b:2",
      "http://c:3",
    ]);
    expect(() => serverUrls(" , ")).toThrow(/needs a URL/);
    expect(() => new HttpRunnerApi([], "t")).toThrow(/at least one/);
  });
});
