import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** OpenAI Codex CLI (@openai/codex) as GIMO's executor, over the OpenAI Responses API. */
defineAgentCliSuite("codex", {
  api: "responses",
  logLines: [/\$ .*echo WORKSPACE/, /\$ .*sed -i/, /codex turn done \(\d+ in, \d+ out\)/],
});
