import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** OpenCode (opencode-ai) as GIMO's executor, over OpenAI chat completions (its bundled client). */
defineAgentCliSuite("opencode", {
  api: "chat",
  logLines: [/→ bash /, /→ edit /, /opencode step done/],
});
