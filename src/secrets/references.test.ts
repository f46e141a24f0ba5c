import { describe, expect, it } from "vitest";
import { findReferences, resolveSecrets, resolveWithSecrets, SecretMissing } from "./references.ts";

const vault = (values: Record<string, string>) => ({ get: async (name: string) => values[name] });

describe("secret references", () => {
  it("finds every ${VAR} at any depth, sorted and once each", () => {
    const config = {
      planner: {
        type: "openai_compat",
        api_key: "${OPENAI_API_KEY}",
        options: { headers: { "x-org": "${ORG}" } },
      },
      executor: [{ api_key: "${OPENAI_API_KEY}" }, { url: "https://${HOST}/v1?k=${ORG}" }],
      ignored: ["$PLAIN", "${lower-case}", "${1BAD}", 42, null, true],
    };
    expect(findReferences(config)).toEqual(["HOST", "OPENAI_API_KEY", "ORG"]);
    expect(findReferences("no refs")).toEqual([]);
  });

  it("resolves from the environment first, then the vault, inside larger strings too", async () => {
    const config = { api_key: "${KEY}", headers: { auth: "Bearer ${TOKEN}" }, n: 3, list: ["${KEY}"] };
    const resolved = await resolveSecrets(
      config,
      { KEY: "from-env" },
      vault({ KEY: "from-vault", TOKEN: "t0k3n" }),
    );
    expect(resolved).toEqual({
      api_key: "from-env",
      headers: { auth: "Bearer t0k3n" },
      n: 3,
      list: ["from-env"],
    });
    expect(config.api_key).toBe("${KEY}");
    const { secrets } = await resolveWithSecrets(config, {}, vault({ KEY: "k-v", TOKEN: "t-v" }));
    expect(secrets.sort()).toEqual(["k-v", "t-v"]);
  });

  it("names every missing variable, treats an empty env var as unset, and never shows a value", async () => {
    const error = await resolveSecrets(
      { a: "${A}", b: "${B}", c: "${C}" },
      { A: "", C: "secret-c" },
      vault({}),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretMissing);
    expect((error as SecretMissing).variables).toEqual(["A", "B"]);
    expect((error as Error).message).toMatch(/secrets A, B are not set/);
    expect((error as Error).message).not.toContain("secret-c");
    expect((error as SecretMissing).status).toBe(503);
  });
});
