import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** Claude Code (@anthropic-ai/claude-code) as GIMO's executor, over Anthropic Messages. */
defineAgentCliSuite("claude", {
  api: "messages",
  logLines: [
    /claude started \(model scripted-model\)/,
    /→ Bash \$ echo WORKSPACE/,
    /→ Edit \/.*calc\.js/,
    /claude finished: /,
  ],
});
