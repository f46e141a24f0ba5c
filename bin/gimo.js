#!/usr/bin/env -S node --max-semi-space-size=4
// The `gimo` executable. It runs the plain JavaScript that `npm run build` (run by `prepare`, so
// by `npm ci`) emits into dist/ when that build is fresh (built.js), else the TypeScript sources
// directly (Node 24 strips the types). Plain JS spares the type stripper: ≈20 MiB of a server's
// idle RSS (bench/rss). The compile cache (in the OS temp dir) keeps compiled modules between
// runs, which takes most of a command's start-up time away (bench/cli).
import module from "node:module";
import { builtIsFresh } from "./built.js";

// --max-semi-space-size=4 (here, in `npm start` and in the systemd unit): V8's young generation
// grows to 16 MiB semi-spaces while the server starts and never gives them back — 8 MiB of idle
// RSS for nothing; at 4 MiB no request or queue figure moved beyond the noise (bench/rss, NOTES.md).
module.enableCompileCache?.();

if (builtIsFresh(new URL("../", import.meta.url))) await import("../dist/operators/cli/main.js");
else await import("../src/operators/cli/main.ts");
