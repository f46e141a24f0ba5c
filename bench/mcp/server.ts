/**
 * GIMO for the MCP bench, in its own process (forked by run.ts) so the client never shares an
 * event loop with the server it measures: `createGimo` + `listen` on a loopback port, SQLite in
 * the data dir the parent gives, no runners, a silent logger. Sends `{url}` when listening and
 * closes on "stop".
 */
import { loadConfig } from "../../src/config.ts";
import { createGimo, listen } from "../../src/gimo.ts";
import { createLogger } from "../../src/log.ts";

const gimo = await createGimo(loadConfig({ ...process.env, GIMO_EMBEDDED_RUNNERS: "0" }, { port: 0 }), {
  repoPath: process.argv[2],
  logger: createLogger("silent"),
});
const server = await listen(gimo);
process.send?.({ url: server.url });
process.on("message", async (command: string) => {
  if (command !== "stop") return;
  await server.close();
  await gimo.close();
  process.exit(0);
});
