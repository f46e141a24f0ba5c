import { describe, expect, it } from "vitest";
import { credentialEnv, httpOrigin, stripCredentials } from "./credentials.ts";

describe("credentialEnv", () => {
  it("gives an https remote an Authorization header scoped to its origin, in the environment only", () => {
    const { env, redact } = credentialEnv("https://github.com/o/r.git", "tok_123456", "github");
    const basic = Buffer.from("x-access-token:tok_123456").toString("base64");
    expect(env).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.https://github.com/.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
    expect(redact).toEqual(["tok_123456", basic]);
  });

  it.each([
    ["gitlab", "oauth2"],
    ["gitea", "gimo"],
    [undefined, "gimo"],
  ])("uses the user name %s expects", (kind, user) => {
    const { env } = credentialEnv("https://git.example:8443/g/r.git", "tok_abcdef", kind);
    expect(env.GIT_CONFIG_KEY_0).toBe("http.https://git.example:8443/.extraHeader");
    expect(
      Buffer.from((env.GIT_CONFIG_VALUE_0 ?? "").replace("Authorization: Basic ", ""), "base64").toString(),
    ).toBe(`${user}:tok_abcdef`);
  });

  it.each(["git@github.com:o/r.git", "ssh://git@host/o/r.git", "file:///srv/r.git", "/srv/r.git"])(
    "gives %s nothing (its credentials are the machine's)",
    (url) => {
      expect(credentialEnv(url, "tok_123456").env).toEqual({});
    },
  );

  it("without a token sets nothing", () => {
    expect(credentialEnv("https://github.com/o/r.git", undefined)).toEqual({ env: {}, redact: [] });
  });
});

describe("URLs", () => {
  it.each([
    ["https://user:pw@github.com/o/r.git", "https://github.com/o/r.git"],
    ["https://tok@gitlab.com/g/r.git", "https://gitlab.com/g/r.git"],
    ["https://github.com/o/r.git", "https://github.com/o/r.git"],
    ["git@github.com:o/r.git", "git@github.com:o/r.git"],
    ["/srv/r.git", "/srv/r.git"],
  ])("stripCredentials(%s) = %s", (url, expected) => {
    expect(stripCredentials(url)).toBe(expected);
  });
  it("httpOrigin", () => {
    expect(httpOrigin("http://127.0.0.1:9/x.git")).toBe("http://127.0.0.1:9");
    expect(httpOrigin("file:///x")).toBeUndefined();
  });
});
