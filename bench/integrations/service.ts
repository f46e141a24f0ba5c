/**
 * The OpenAPI service of the integrations bench, in its own process (forked by run.ts): `GET
 * /ping?n=` answers a small JSON document; `/openapi.json` describes it. Sends `{url}` when
 * listening.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const doc = {
  openapi: "3.1.0",
  info: { title: "bench", version: "1" },
  paths: {
    "/ping": {
      get: {
        operationId: "ping",
        summary: "Answers pong",
        parameters: [{ name: "n", in: "query", required: true, schema: { type: "integer", minimum: 0 } }],
      },
    },
  },
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/openapi.json") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
    return;
  }
  if (url.pathname === "/ping") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ pong: true, n: Number(url.searchParams.get("n")) }));
    return;
  }
  res.writeHead(404).end();
});
server.listen(0, "127.0.0.1", () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
process.on("message", (m) => m === "stop" && server.close(() => process.exit(0)));
