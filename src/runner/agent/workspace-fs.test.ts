import { execFileSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { confine } from "./paths.ts";
import { workspaceFs } from "./workspace-fs.ts";

/**
 * The file tools' access to the workspace, against the real filesystem: every way a symlink a
 * command planted could lead GIMO's own writes or reads out of the workspace, each checked from
 * the outside (the host file is unchanged, the marker absent), each beside a "can" so a tool that
 * simply refuses everything fails.
 */
let root: string;
let ws: string;
let outside: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gimo-wsfs-"));
  ws = join(root, "ws");
  outside = join(root, "outside");
  mkdirSync(ws);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "TOP SECRET\n");
  writeFileSync(join(ws, "a.txt"), "hello\n");
  mkdirSync(join(ws, "src"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("workspaceFs", () => {
  it("reads and writes files, making missing directories", async () => {
    const fs = workspaceFs(ws);
    expect(await fs.read("a.txt", 1000)).toEqual({ text: "hello\n", size: 6 });
    expect(await fs.write("src/deep/new.ts", "x")).toBe(true);
    expect(await fs.write("a.txt", "replaced\n")).toBe(false);
    expect(readFileSync(join(ws, "src", "deep", "new.ts"), "utf8")).toBe("x");
    expect(readFileSync(join(ws, "a.txt"), "utf8")).toBe("replaced\n");
    expect((await fs.list("src")).map((e) => e.name)).toEqual(["deep"]);
    expect(await fs.read("a.txt", 3)).toEqual({ text: "rep", size: 9 });
  });

  it("never writes through a dangling symlink (the file would be created outside)", async () => {
    symlinkSync(join(outside, "created-by-gimo"), join(ws, "nf"));
    await expect(workspaceFs(ws).write("nf", "pwned")).rejects.toThrow(/symlink/);
    expect(existsSync(join(outside, "created-by-gimo"))).toBe(false);
  });

  it("never writes or reads through a symlink to an existing host file", async () => {
    symlinkSync(join(outside, "secret.txt"), join(ws, "link"));
    const fs = workspaceFs(ws);
    await expect(fs.write("link", "overwritten")).rejects.toThrow(/symlink/);
    await expect(fs.read("link", 1000)).rejects.toThrow(/symlink/);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET\n");
  });

  it("never goes through a symlinked directory anywhere in the path", async () => {
    symlinkSync(outside, join(ws, "d"));
    mkdirSync(join(ws, "real"));
    symlinkSync(outside, join(ws, "real", "inner"));
    const fs = workspaceFs(ws);
    for (const path of ["d/x.txt", "d/secret.txt", "real/inner/x.txt", "d/new/deeper.txt"]) {
      await expect(fs.write(path, "pwned")).rejects.toThrow(/symlink/);
    }
    await expect(fs.read("d/secret.txt", 1000)).rejects.toThrow(/symlink/);
    await expect(fs.list("d")).rejects.toThrow(/symlink/);
    expect(existsSync(join(outside, "x.txt"))).toBe(false);
    expect(existsSync(join(outside, "new"))).toBe(false);
    // A link inside the workspace is refused too (file tools never follow one), but listed as one.
    symlinkSync("a.txt", join(ws, "alias"));
    await expect(fs.read("alias", 1000)).rejects.toThrow(/symlink/);
    expect((await fs.list(".")).find((e) => e.name === "alias")?.isSymbolicLink()).toBe(true);
  });

  it("refuses a FIFO without blocking, and a file with other hard links", async () => {
    execFileSync("mkfifo", [join(ws, "pipe")]);
    const fs = workspaceFs(ws);
    await expect(fs.read("pipe", 1000)).rejects.toThrow(/not a regular file/);
    await expect(fs.write("pipe", "x")).rejects.toThrow(/FIFO|not a regular file/);
    linkSync(join(outside, "secret.txt"), join(ws, "hard"));
    await expect(fs.write("hard", "overwritten")).rejects.toThrow(/hard links/);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET\n");
  });

  it("gives what it creates to the sandbox user", async () => {
    if (process.getuid?.() !== 0) return; // chown needs root; GIMO only hands files over as root
    const owner = { uid: 64_999, gid: 64_999 };
    await workspaceFs(ws, owner).write("made/by/gimo.txt", "x");
    for (const path of ["made", "made/by", "made/by/gimo.txt"]) {
      expect(statSync(join(ws, path))).toMatchObject({ uid: owner.uid, gid: owner.gid });
    }
  });
});

describe("confine", () => {
  it("keeps paths relative, inside, and out of .git", () => {
    expect(confine("src/a.ts").relative).toBe("src/a.ts");
    expect(confine("/srv/gimo/work/ws1/src/a.ts", ["/srv/gimo/work/ws1"]).relative).toBe("src/a.ts");
    expect(confine("/srv/gimo/work/ws1", ["/srv/gimo/work/ws1"]).relative).toBe(".");
    expect(confine("./src/../a.ts").relative).toBe("a.ts");
    expect(() => confine("../x")).toThrow(/outside the workspace/);
    expect(() => confine("src/../../x")).toThrow(/outside the workspace/);
    expect(() => confine(".git/config")).toThrow(/inside \.git/);
    expect(() => confine("a\u0000b")).toThrow(/not a valid path/);
  });
});
