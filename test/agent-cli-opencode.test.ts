import { expect, it } from "vitest";
import { defineAgentCliSuite } from "./support/agent-cli-suite.ts";

/** OpenCode (opencode-ai) as GIMO's executor, over OpenAI chat completions (its bundled client). */
defineAgentCliSuite("opencode", {
  api: "chat",
  logLines: [/→ bash echo WORKSPACE/, /→ read /, /→ edit /, /opencode step done \(stop\)/],
  more: (suite) => {
    it("refuses, when it is configured, a model whose key variable OpenCode cannot tell", async () => {
      const { g } = suite();
      const executor = {
        type: "agent_cli",
        model: "acme/coder",
        api_key: "sk-x",
        options: { cli: "opencode" },
      };
      const res = await g.request("PUT", "/ops/provider", { body: { executor } });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(
        /opencode: cannot tell which variable holds the API key for model acme\/coder/,
      );
      const stored = await g.request("GET", "/ops/provider");
      expect(stored.body.executor.options.cli).toBe("opencode");
      expect(stored.body.executor.model).toBe("scripted-model");
    });
  },
});
