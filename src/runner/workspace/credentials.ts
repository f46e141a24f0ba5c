/**
 * How a forge token reaches git for an https remote: only through the environment of that one git
 * process, as an `Authorization: Basic` header scoped to the remote's origin
 * (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_0=http.<origin>/.extraHeader` / `GIT_CONFIG_VALUE_0`). Never in
 * a URL, never in `.git/config`, never on a command line (which `ps` shows). The user name is what
 * each forge expects with a token as password: `x-access-token` (GitHub), `oauth2` (GitLab),
 * `gimo` (Gitea and others: any name works). ssh and local remotes get nothing: their credentials
 * are the machine's own.
 *
 * `redact` lists every form the token takes, for the git port to cut out of errors.
 */
export interface CredentialEnv {
  env: Record<string, string>;
  redact: string[];
}

const USER_BY_KIND: Record<string, string> = { github: "x-access-token", gitlab: "oauth2", gitea: "gimo" };

export function credentialEnv(
  remoteUrl: string | null,
  token: string | undefined,
  forgeKind?: string,
): CredentialEnv {
  if (!token || !remoteUrl) return { env: {}, redact: token ? [token] : [] };
  const origin = httpOrigin(remoteUrl);
  if (!origin) return { env: {}, redact: [token] };
  const basic = Buffer.from(`${USER_BY_KIND[forgeKind ?? ""] ?? "gimo"}:${token}`).toString("base64");
  return {
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${origin}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    redact: [token, basic],
  };
}

/** `https://host[:port]` of an http(s) URL; undefined for ssh, file and local paths. */
export function httpOrigin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** A remote URL fit to show or log: user and password removed. */
export function stripCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url; // scp-like `git@host:o/r.git` or a path: no password can be in it
  }
}
