import { readFileSync, writeFileSync } from "node:fs";
import { renderCliDocs } from "../src/operators/cli/docs.ts";
import { buildProgram } from "../src/operators/cli/program.ts";

/** `npm run docs:cli`: rewrites docs/cli.md from the command definitions. */
const root = new URL("..", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string };
writeFileSync(new URL("docs/cli.md", root), renderCliDocs(buildProgram(version)));
process.stdout.write("docs/cli.md written\n");
