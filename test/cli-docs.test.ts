import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { renderCliDocs } from "../src/operators/cli/docs.ts";
import { buildProgram } from "../src/operators/cli/program.ts";

/** docs/cli.md is generated from the command definitions; a stale checked-in copy fails here. */
describe("docs/cli.md", () => {
  it("is what `npm run docs:cli` writes from the command definitions today", () => {
    const root = resolve(import.meta.dirname, "..");
    const { version } = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
      version: string;
    };
    const checkedIn = readFileSync(resolve(root, "docs/cli.md"), "utf8");
    const fresh = renderCliDocs(buildProgram(version));
    expect(checkedIn, "docs/cli.md is stale: run `npm run docs:cli` and commit it").toBe(fresh);
    for (const command of ["login", "task", "revise", "approve", "logs", "watch", "doctor", "completion"])
      expect(fresh).toContain(`### gimo ${command}`);
  });
});
