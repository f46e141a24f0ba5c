import { createRequire } from "node:module";

/**
 * A package loaded on first use instead of at start. `gimo serve` idles at a fraction of its
 * modules: the provider SDKs, ajv, yaml, the MCP SDK and grammy are needed only once a model is
 * called, an integration is used, /mcp is hit or the Telegram bot is configured — each held in
 * memory from start cost megabytes of idle RSS (bench/rss). `require` of an ES module is
 * synchronous in Node 24, so callers stay synchronous; the type is the package's own
 * (`typeof import("pkg")`). Packages only: a module of GIMO's own is loaded with `import()`.
 */
const require = createRequire(import.meta.url);

export function lazyPackage<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(specifier) as T;
    return loaded;
  };
}
