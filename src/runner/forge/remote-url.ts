import { ForgeError, type ForgeKind } from "./http.ts";

/**
 * From a git remote URL to what a forge API needs: the host and the repository path.
 *
 *   https://github.com/o/r.git · http://host:8080/o/r · ssh://git@host:22/o/r.git · git@host:o/r.git
 *
 * GitHub and Gitea repositories are `owner/name`; GitLab projects may sit in nested groups
 * (`group/sub/name`). Credentials in a URL are ignored. A local path or `file://` URL names no
 * forge: the caller must then give the repository explicitly.
 *
 * The API root, when the project does not set `forge.api_url`: `https://api.github.com` for
 * github.com and `https://<host>/api/v3` for GitHub Enterprise; `https://<host>/api/v4` for GitLab;
 * `https://<host>/api/v1` for Gitea. A configured `api_url` that is only a host (`https://gitlab.corp`)
 * gets the same suffix.
 */
export interface RemoteRepo {
  host: string;
  /** `owner/name`, or `group/…/name` on GitLab. */
  path: string;
}

export function parseRemote(url: string): RemoteRepo | undefined {
  const trimmed = url.trim();
  let host: string;
  let path: string;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return undefined;
    }
    if (parsed.protocol === "file:") return undefined;
    host = parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  } else if (scp) {
    host = scp[1] as string;
    path = scp[2] as string;
  } else return undefined;
  path = path.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
  if (!host || path.split("/").filter(Boolean).length < 2) return undefined;
  return { host, path };
}

/** The repository as the forge names it, from an explicit `repo` or the remote URL. */
export function repoFor(
  kind: ForgeKind,
  given: { repo?: string | undefined; remoteUrl?: string | null | undefined },
): RemoteRepo {
  const parsed = given.remoteUrl ? parseRemote(given.remoteUrl) : undefined;
  const path = (given.repo ?? parsed?.path ?? "").replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
  const segments = path.split("/").filter(Boolean);
  if (segments.length < 2 || (kind !== "gitlab" && segments.length !== 2)) {
    throw new ForgeError(
      "forge_config",
      kind,
      given.repo || given.remoteUrl
        ? `cannot tell the ${kind} repository from ${JSON.stringify(given.repo ?? given.remoteUrl)}; expected owner/name`
        : `no repository for the ${kind} pull request: the project has no remote URL`,
    );
  }
  return { host: parsed?.host ?? "", path: segments.join("/") };
}

const SUFFIX: Record<ForgeKind, string> = { github: "/api/v3", gitlab: "/api/v4", gitea: "/api/v1" };

export function apiRoot(kind: ForgeKind, apiUrl: string | undefined, host: string): string {
  if (apiUrl) {
    const parsed = new URL(apiUrl);
    const bare = parsed.pathname === "/" || parsed.pathname === "";
    const root = apiUrl.replace(/\/+$/, "");
    if (bare && !(kind === "github" && parsed.hostname === "api.github.com")) return root + SUFFIX[kind];
    return root;
  }
  if (!host)
    throw new ForgeError(
      "forge_config",
      kind,
      `set forge.api_url: the ${kind} API cannot be told from the remote`,
    );
  if (kind === "github" && host === "github.com") return "https://api.github.com";
  return `https://${host}${SUFFIX[kind]}`;
}
