import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** Qwen Code (@qwen-code/qwen-code) as GIMO's executor, over OpenAI chat completions. */
defineAgentCliSuite("qwen", {
  api: "chat",
  logLines: [
    /qwen started \(model scripted-model\)/,
    /→ run_shell_command \$ echo WORKSPACE/,
    /→ edit \/.*calc\.js/,
    /qwen finished: /,
  ],
});
