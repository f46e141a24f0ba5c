/**
 * The API bench's servers, one per child process (run.ts forks this file with the kind to serve):
 * "hello", a bare Hono route answering five bytes — or, given BENCH_ANSWER, replaying an answer
 * GIMO gave (its body and headers) — and "gimo", a whole GIMO server configured by the env the
 * parent set. Each says `{ ready: url }` over IPC once it listens, and stops on "stop".
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

export type ServeKind = "hello" | "gimo";
type ChildMessage = { ready: string } | { failed: string };
/** An answer a bare route replays (BENCH_ANSWER): GIMO's own, copied once. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function serveChild(kind: ServeKind): Promise<void> {
  let close: () => Promise<void>;
  try {
    if (kind === "hello") {
      const [{ Hono }, { serve }] = await Promise.all([import("hono"), import("@hono/node-server")]);
      const answer = process.env.BENCH_ANSWER ? (JSON.parse(process.env.BENCH_ANSWER) as Answer) : undefined;
      const app = new Hono().get("/", (c) =>
        answer ? c.body(answer.body, answer.status as 200, answer.headers) : c.text("hello"),
      );
      const url = await new Promise<string>((resolve, reject) => {
        const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
          resolve(`http://127.0.0.1:${info.port}`),
        );
        server.once("error", reject);
        close = () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          });
      });
      process.send?.({ ready: url } satisfies ChildMessage);
    } else {
      const [{ loadConfig }, { createGimo, listen }, { createLogger }] = await Promise.all([
        import("../../src/config.ts"),
        import("../../src/gimo.ts"),
        import("../../src/log.ts"),
      ]);
      // Everything else (tokens, data dir, DATABASE_URL, rate limit off) comes from the env the parent set.
      const config = loadConfig(process.env, { port: 0, host: "127.0.0.1" });
      const gimo = await createGimo(config, {
        logger: createLogger("silent"),
        repoPath: process.env.BENCH_REPO_PATH,
      });
      const server = await listen(gimo);
      close = async () => {
        await server.close();
        await gimo.close();
      };
      process.send?.({ ready: server.url } satisfies ChildMessage);
    }
  } catch (error) {
    process.send?.({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  process.on("message", async (msg) => {
    if (msg !== "stop") return;
    await close().catch(() => {});
    process.exit(0);
  });
  process.on("disconnect", () => process.exit(0));
}

export interface Child {
  url: string;
  stop(): Promise<void>;
}

export async function startChild(kind: ServeKind, env: Record<string, string | undefined>): Promise<Child> {
  // GIMO_BENCH_CPU_PROF=DIR: each server child writes a V8 CPU profile there when it stops.
  const profileDir = process.env.GIMO_BENCH_CPU_PROF;
  const child = fork(import.meta.filename, [kind], {
    env: { ...process.env, ...env },
    execArgv: profileDir
      ? [...process.execArgv, "--cpu-prof", `--cpu-prof-dir=${profileDir}`]
      : process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [msg] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(([code]) => [{ failed: `server child exited early (code ${code})` }]),
  ])) as [ChildMessage];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.send("stop");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  if ("failed" in msg) {
    await stop();
    throw new Error(`${kind} server failed to start:\n${msg.failed}`);
  }
  return { url: msg.ready, stop };
}

// Forked: serve. Imported by run.ts: only the exports above.
if (process.argv[1] === import.meta.filename) await serveChild(process.argv[2] as ServeKind);
