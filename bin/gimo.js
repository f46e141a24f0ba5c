#!/usr/bin/env node
// The `gimo` executable. Node 24 runs the TypeScript sources directly (type stripping); the
// compile cache (in the OS temp dir) keeps the stripped, compiled modules between runs, which
// takes most of a command's start-up time away (bench/cli).
import module from "node:module";

module.enableCompileCache?.();
await import("../src/operators/cli/main.ts");
