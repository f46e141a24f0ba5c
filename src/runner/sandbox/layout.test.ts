import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Mount, planLayout } from "./layout.ts";

/**
 * GIMO's node_modules is shown read-only at its own path even under /tmp, which every sandbox
 * replaces with a private tmpfs — a checkout there must still run its own agent CLIs and MCP
 * servers — and a mask inside it stays laid over it.
 */
describe("planLayout: GIMO's node_modules", () => {
  const root = mkdtempSync(join(tmpdir(), "gimo-layout-"));
  const modules = join(root, "gimo", "node_modules");
  const dataDir = join(modules, ".cache");
  mkdirSync(dataDir, { recursive: true });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dataMask: Mount = { kind: "tmpfs", dest: dataDir, sizeBytes: 1024 * 1024 };
  const plan = (modulesDir: string) =>
    planLayout({
      workspace: join(root, "ws"),
      nodeBin: "/usr/bin",
      modulesDir,
      user: undefined,
      masks: [dataMask],
      tmpBytes: 1024 * 1024,
    });

  it("under /tmp: bound read-only, with a mask inside it laid again after the bind", async () => {
    const mounts = await plan(modules);
    const bind = mounts.findIndex((m) => m.kind === "ro" && m.dest === modules);
    expect(bind).toBeGreaterThan(0);
    expect(mounts[bind]).toEqual({ kind: "ro", src: modules, dest: modules });
    const masksAfter = mounts.slice(bind + 1).filter((m) => m.kind === "tmpfs" && m.dest === dataDir);
    expect(masksAfter).toHaveLength(1);
  });

  it("elsewhere: visible through the host's / already, nothing bound, masks laid once", async () => {
    const mounts = await plan("/usr/lib");
    expect(mounts.some((m) => m.kind === "ro" && m.dest === "/usr/lib")).toBe(false);
    expect(mounts.filter((m) => m.kind === "tmpfs" && m.dest === dataDir)).toHaveLength(1);
  });
});
