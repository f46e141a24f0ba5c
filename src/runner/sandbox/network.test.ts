import { describe, expect, it } from "vitest";
import { BRIDGE_PORT, loopbackForwards } from "./network.ts";

/** Which `always` entries the egress bridge forwards from the sandbox's own loopback. */
describe("loopback forwards", () => {
  it("forwards only loopback host:port entries, never the bridge's own port", () => {
    expect(
      loopbackForwards([
        "127.0.0.1:41234",
        "localhost:11434",
        "127.0.0.1",
        "api.anthropic.com",
        "10.0.0.5:8080",
        "127.0.0.2:80",
        `127.0.0.1:${BRIDGE_PORT}`,
        "127.0.0.1:99999",
      ]),
    ).toEqual(["127.0.0.1:41234", "localhost:11434"]);
  });
});
