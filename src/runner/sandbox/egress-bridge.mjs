// The egress bridge: runs INSIDE a sandbox with `network: true` (see network.ts), as the parent of
// the command. The sandbox's network namespace has only a loopback interface; this listens on its
// 127.0.0.1:<port> and carries every connection to GIMO's egress proxy through the unix socket
// bind-mounted at <socket>, then starts the command with HTTP(S)_PROXY pointing here. It exits with
// the command's exit code (or dies of its signal). Plain JavaScript: no type stripping to load.
//
// Each `--forward=<host>:<port>` (a model API on GIMO's loopback that an agent CLI may reach, see
// network.ts) also listens on the sandbox's own 127.0.0.1:<port> and carries each connection
// through the proxy as `CONNECT <host>:<port>` — so a client reaches it at the very URL it was
// given, proxy-aware or not, while the sandbox's loopback stays its own for everything else.
//
//   node egress-bridge.mjs <socket> <port> [--forward=<host>:<port>…] <command> [args…]
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";

const [socket, port, ...rest] = process.argv.slice(2);
const forwards = [];
while (rest[0]?.startsWith("--forward=")) forwards.push(rest.shift().slice("--forward=".length));
const [command, ...args] = rest;
if (!socket || !port || !command) {
  process.stderr.write(
    "usage: egress-bridge.mjs <socket> <port> [--forward=<host>:<port>…] <command> [args…]\n",
  );
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = connect(socket);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  client.pipe(upstream).pipe(client);
});

/** A listener on the sandbox's 127.0.0.1:<port> tunnelling to <target> through the proxy. */
function forward(target) {
  return createServer((client) => {
    const upstream = connect(socket);
    client.pause();
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    upstream.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return head.length > 16_384 ? upstream.destroy() : undefined;
      upstream.off("data", onData);
      if (!/^HTTP\/1\.[01] 200/.test(head.toString("latin1", 0, end))) {
        client.destroy();
        upstream.destroy();
        return;
      }
      const extra = head.subarray(end + 4);
      if (extra.length > 0) client.write(extra);
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    upstream.on("data", onData);
  });
}

const listening = [
  new Promise((resolve) => server.listen(Number(port), "127.0.0.1", resolve)),
  ...forwards.map((target) => {
    const listener = forward(target);
    listener.on("error", (error) => {
      process.stderr.write(`egress bridge: forward ${target}: ${error.message}\n`);
      process.exit(125);
    });
    return new Promise((resolve) =>
      listener.listen(Number(target.slice(target.lastIndexOf(":") + 1)), "127.0.0.1", resolve),
    );
  }),
];

Promise.all(listening).then(() => {
  const child = spawn(command, args, { stdio: "inherit" });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    process.stderr.write(`${command}: ${error.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    server.close();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
});
server.on("error", (error) => {
  process.stderr.write(`egress bridge: ${error.message}\n`);
  process.exit(125);
});
