import { describe, expect, it } from "vitest";
import { apiRoot, parseRemote, repoFor } from "./remote-url.ts";

describe("parseRemote", () => {
  it.each([
    ["https://github.com/octo/shop.git", { host: "github.com", path: "octo/shop" }],
    ["https://github.com/octo/shop", { host: "github.com", path: "octo/shop" }],
    ["https://x-access-token:tok@github.com/octo/shop.git/", { host: "github.com", path: "octo/shop" }],
    ["http://gitea.local:3000/octo/shop.git", { host: "gitea.local", path: "octo/shop" }],
    ["git@github.com:octo/shop.git", { host: "github.com", path: "octo/shop" }],
    ["gitlab.com:grp/sub/shop", { host: "gitlab.com", path: "grp/sub/shop" }],
    [
      "ssh://git@gitlab.example.com:2222/grp/sub/shop.git",
      { host: "gitlab.example.com", path: "grp/sub/shop" },
    ],
  ])("%s", (url, expected) => {
    expect(parseRemote(url)).toEqual(expected);
  });

  it.each([
    "/srv/git/shop.git",
    "file:///srv/git/shop.git",
    "https://github.com/onlyowner",
    "not a url",
    "C:/repo",
  ])("names no forge repository: %s", (url) => {
    expect(parseRemote(url)).toBeUndefined();
  });
});

describe("repoFor", () => {
  it("prefers the repository given, else the remote's; GitHub and Gitea need exactly owner/name", () => {
    expect(repoFor("github", { repo: "a/b", remoteUrl: "git@github.com:c/d.git" })).toEqual({
      host: "github.com",
      path: "a/b",
    });
    expect(repoFor("gitlab", { remoteUrl: "https://gitlab.com/g/s/r.git" }).path).toBe("g/s/r");
    expect(() => repoFor("github", { remoteUrl: "https://github.com/g/s/r.git" })).toThrow(
      /expected owner\/name/,
    );
    expect(() => repoFor("gitea", {})).toThrow(/no remote URL/);
  });
});

describe("apiRoot", () => {
  it.each([
    ["github", undefined, "github.com", "https://api.github.com"],
    ["github", undefined, "ghe.corp", "https://ghe.corp/api/v3"],
    ["github", "https://api.github.com", "github.com", "https://api.github.com"],
    ["github", "https://ghe.corp/", "", "https://ghe.corp/api/v3"],
    ["gitlab", undefined, "gitlab.com", "https://gitlab.com/api/v4"],
    ["gitlab", "https://gitlab.corp/api/v4/", "", "https://gitlab.corp/api/v4"],
    ["gitea", "https://gitea.corp", "", "https://gitea.corp/api/v1"],
    ["gitea", undefined, "codeberg.org", "https://codeberg.org/api/v1"],
  ] as const)("%s %s %s → %s", (kind, apiUrl, host, expected) => {
    expect(apiRoot(kind, apiUrl, host)).toBe(expected);
  });
  it("needs api_url when the remote names no host", () => {
    expect(() => apiRoot("gitlab", undefined, "")).toThrow(/set forge.api_url/);
  });
});
