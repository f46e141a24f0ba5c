import { fileURLToPath } from "node:url";

/**
 * `gimo serve --print-systemd-unit` and `gimo runner --print-systemd-unit`: a unit file to install
 * GIMO as a service, with the hardening systemd offers that GIMO's sandbox can live with.
 *
 * Kept off on purpose, because bubblewrap needs them:
 *  - RestrictNamespaces / PrivateUsers — bwrap builds each sandbox from user, mount, pid and
 *    network namespaces;
 *  - MemoryDenyWriteExecute — V8 compiles JavaScript to machine code at run time;
 *  - ProtectControlGroups — GIMO may put each sandboxed command in a cgroup of its own.
 * ProtectHome is read-only: a repository under /home needs its path in ReadWritePaths (GIMO adds
 * worktrees to the repository's .git).
 */
export type UnitKind = "serve" | "runner";

export function systemdUnit(kind: UnitKind, cwd: string, node = process.execPath): string {
  const main = fileURLToPath(new URL("../../../bin/gimo.js", import.meta.url));
  const description =
    kind === "serve"
      ? "GIMO server (API, web UI, embedded runner)"
      : "GIMO runner (claims approved runs over HTTP)";
  return `# GIMO — ${kind}. Install: save as /etc/systemd/system/gimo${kind === "runner" ? "-runner" : ""}.service,
# create the user (useradd --system --home-dir /var/lib/gimo --shell /usr/sbin/nologin gimo),
# put settings in /etc/gimo/gimo.env (0600: DATABASE_URL, GIMO_MASTER_KEY, tokens…), then
#   systemctl daemon-reload && systemctl enable --now gimo${kind === "runner" ? "-runner" : ""}
[Unit]
Description=${description}
After=network-online.target${kind === "serve" ? " postgresql.service" : ""}
Wants=network-online.target

[Service]
Type=simple
User=gimo
Group=gimo
WorkingDirectory=${cwd}
EnvironmentFile=-/etc/gimo/gimo.env
Environment=GIMO_DATA_DIR=/var/lib/gimo${kind === "runner" ? "/runner" : ""}
StateDirectory=gimo
StateDirectoryMode=0700
UMask=0077
ExecStart=${node} --max-semi-space-size=4 ${main} ${kind}
Restart=on-failure
RestartSec=5
# SIGTERM: the server closes its streams and stops; a runner finishes or hands back its runs
# within --grace (25 s).
KillSignal=SIGTERM
TimeoutStopSec=60
LimitNOFILE=65536

# Hardening (see docs/OPERATIONS.md for what is left off and why).
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/var/lib/gimo
# Repositories GIMO works on (worktrees are added to their .git), e.g.:
# ReadWritePaths=/srv/repos
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
`;
}
