import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { gimo } from "./support/cli.ts";

/**
 * `gimo serve|runner --print-systemd-unit`: a unit that systemd itself accepts, with the hardening
 * that fits bubblewrap, and without the options that would break it.
 */
const run = promisify(execFile);

describe.each(["serve", "runner"])("gimo %s --print-systemd-unit", (kind) => {
  it("prints a hardened unit that systemd-analyze verifies", async () => {
    const out = await gimo([kind, "--print-systemd-unit"]);
    expect(out.code, out.stderr).toBe(0);
    const unit = out.stdout;
    expect(unit).toMatch(
      new RegExp(`^ExecStart=\\S+/node --max-semi-space-size=4 \\S+/bin/gimo\\.js ${kind}$`, "m"),
    );
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "PrivateTmp=yes",
      "UMask=0077",
      "User=gimo",
    ])
      expect(unit).toContain(`\n${line}\n`);
    // bwrap needs namespaces and V8 needs W^X pages: these must stay off.
    for (const off of ["RestrictNamespaces=", "PrivateUsers=", "MemoryDenyWriteExecute="])
      expect(unit).not.toMatch(new RegExp(`^${off}`, "m"));
    const dir = mkdtempSync(join(tmpdir(), "gimo-unit-"));
    try {
      const file = join(dir, kind === "serve" ? "gimo.service" : "gimo-runner.service");
      writeFileSync(file, unit);
      const verified = await run("systemd-analyze", ["verify", file]).then(
        (r) => ({ ok: true, text: r.stderr }),
        (e: { stderr?: string }) => ({ ok: false, text: String(e.stderr) }),
      );
      expect(verified.text.split("\n").filter((l) => l.includes(file))).toEqual([]);
      expect(verified.ok, verified.text).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
