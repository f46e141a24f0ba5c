#!/usr/bin/env node
// The `gimo` executable. Node 24 runs the TypeScript sources directly (type stripping).
import "../src/operators/cli/main.ts";
