import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** Gemini CLI (@google/gemini-cli) as GIMO's executor, over Gemini streamGenerateContent. */
defineAgentCliSuite("gemini", {
  api: "gemini",
  logLines: [
    /gemini started \(model scripted-model\)/,
    /→ run_shell_command \$ echo WORKSPACE/,
    /→ replace \/.*calc\.js/,
    /gemini finished/,
  ],
});
