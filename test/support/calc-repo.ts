import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestGimo } from "./harness.ts";

/** The sample repository executor suites fix: `add()` subtracts, and its one test says so. */
export const CALC = "export function add(a, b) {\n  return a - b;\n}\n";
export const CALC_TEST = `import { add } from "./calc.js";
const ok = add(2, 3) === 5;
console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed: add(2, 3) should be 5");
process.exit(ok ? 0 : 1);
`;

/** Writes the sample into the test GIMO's repository, commits it and pushes it to its remote. */
export async function pushCalcRepo(g: TestGimo): Promise<void> {
  writeFileSync(join(g.repo.path, "calc.js"), CALC);
  writeFileSync(join(g.repo.path, "calc.test.js"), CALC_TEST);
  writeFileSync(join(g.repo.path, "package.json"), '{"type":"module"}\n');
  await g.repo.git("add", ".");
  await g.repo.git("commit", "-q", "-m", "calc with a bug");
  await g.repo.git("push", "-q", "origin", "main");
}
