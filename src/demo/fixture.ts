import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The demo's repository: a tiny JavaScript library whose `add` subtracts, a test that says so, and
 * a bare repository as its `origin` — so the demo can push a real task branch without a network.
 */
export interface DemoRepo {
  path: string;
  remote: string;
}

const CALC = `// A tiny calculator.
export function add(a, b) {
  return a - b;
}

export function multiply(a, b) {
  return a * b;
}
`;

const TEST = `import assert from "node:assert/strict";
import { add, multiply } from "./calc.js";

let failed = 0;
for (const [name, check] of [
  ["add(2, 3) is 5", () => assert.equal(add(2, 3), 5)],
  ["add(-1, 1) is 0", () => assert.equal(add(-1, 1), 0)],
  ["multiply(4, 5) is 20", () => assert.equal(multiply(4, 5), 20)],
]) {
  try {
    check();
    console.log("ok", name);
  } catch (error) {
    failed++;
    console.log("not ok", name, "-", error.message.split("\\n")[0]);
  }
}
console.log(\`\${3 - failed} passed, \${failed} failed\`);
process.exit(failed ? 1 : 0);
`;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "GIMO demo",
  GIT_AUTHOR_EMAIL: "demo@gimo.invalid",
  GIT_COMMITTER_NAME: "GIMO demo",
  GIT_COMMITTER_EMAIL: "demo@gimo.invalid",
};

export async function createDemoRepo(root: string): Promise<DemoRepo> {
  const path = join(root, "calc");
  const remote = join(root, "calc-remote.git");
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "calc.js"), CALC);
  writeFileSync(join(path, "calc.test.js"), TEST);
  writeFileSync(
    join(path, "package.json"),
    `${JSON.stringify({ name: "calc", type: "module", private: true }, null, 2)}\n`,
  );
  writeFileSync(
    join(path, "README.md"),
    "# calc\n\nA tiny calculator. Run the tests with `node calc.test.js`.\n",
  );
  const git = (...args: string[]) => run("git", args, { cwd: path, env: GIT_ENV });
  await run("git", ["init", "-q", "--bare", "-b", "main", remote]);
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-q", "-m", "calc: add and multiply");
  await git("remote", "add", "origin", remote);
  await git("push", "-q", "origin", "main");
  return { path, remote };
}
