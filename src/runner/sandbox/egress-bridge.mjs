// The egress bridge: runs INSIDE a sandbox with `network: true` (see network.ts), as the parent of
// the command. The sandbox's network namespace has only a loopback interface; this listens on its
// 127.0.0.1:<port> and carries every connection to GIMO's egress proxy through the unix socket
// bind-mounted at <socket>, then starts the command with HTTP(S)_PROXY pointing here. It exits with
// the command's exit code (or dies of its signal). Plain JavaScript: no type stripping to load.
//
//   node egress-bridge.mjs <socket> <port> <command> [args…]
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";

const [socket, port, command, ...args] = process.argv.slice(2);
if (!socket || !port || !command) {
  process.stderr.write("usage: egress-bridge.mjs <socket> <port> <command> [args…]\n");
  process.exit(2);
}

const server = createServer((client) => {
  const upstream = connect(socket);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  client.pipe(upstream).pipe(client);
});

server.listen(Number(port), "127.0.0.1", () => {
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
