import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SEALED_PREFIX } from "./sealed.ts";
import { VaultUnusable, vaultFileName, vaultKeyFileName } from "./vault.ts";
import { openFileVault as openVault } from "./vault-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gimo-vault-"));
  dirs.push(dir);
  return dir;
}

const secret = "sk-live-THIS-MUST-NOT-LEAK-0123456789";

describe("vault", () => {
  it("round-trips secrets across instances with the master key", async () => {
    const dir = dataDir();
    const vault = openVault({ dataDir: dir, masterKey: "correct horse battery staple" });
    expect(await vault.names()).toEqual([]);
    expect(await vault.get("OPENAI_API_KEY")).toBeUndefined();
    await vault.set("OPENAI_API_KEY", secret);
    await vault.set("ANTHROPIC_API_KEY", "sk-ant-1");
    const again = openVault({ dataDir: dir, masterKey: "correct horse battery staple" });
    expect(await again.get("OPENAI_API_KEY")).toBe(secret);
    expect(await again.has("ANTHROPIC_API_KEY")).toBe(true);
    expect(await again.has("MISSING")).toBe(false);
    expect(await again.names()).toEqual(["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]);
    expect(await again.delete("ANTHROPIC_API_KEY")).toBe(true);
    expect(await vault.names()).toEqual(["OPENAI_API_KEY"]);
  });

  it("creates a random key file (0600) when there is no master key, and uses it again", async () => {
    const dir = dataDir();
    await openVault({ dataDir: dir }).set("TOKEN", secret);
    const keyFile = join(dir, vaultKeyFileName);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64")).toHaveLength(32);
    expect(await openVault({ dataDir: dir }).get("TOKEN")).toBe(secret);
  });

  it("writes the vault file with mode 0600 and no plaintext name or value in its bytes", async () => {
    const dir = dataDir();
    const vault = openVault({ dataDir: dir, masterKey: "k" });
    await vault.set("OPENAI_API_KEY", secret);
    await vault.set("OPENAI_API_KEY", `${secret}-rotated`);
    const file = join(dir, vaultFileName);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from("THIS-MUST-NOT-LEAK"))).toBe(false);
    expect(bytes.includes(Buffer.from("OPENAI_API_KEY"))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(secret).toString("base64").slice(0, 12)))).toBe(false);
  });

  it("fails clearly with a wrong master key, naming the fix and never a value", async () => {
    const dir = dataDir();
    await openVault({ dataDir: dir, masterKey: "right" }).set("TOKEN", secret);
    const error = await openVault({ dataDir: dir, masterKey: "wrong" })
      .get("TOKEN")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultUnusable);
    expect((error as Error).message).toMatch(/sealed with a different GIMO_MASTER_KEY/);
    expect((error as Error).message).not.toContain(secret);
  });

  it("says which key is needed when the key source changed", async () => {
    const dir = dataDir();
    await openVault({ dataDir: dir, masterKey: "right" }).set("TOKEN", secret);
    await expect(openVault({ dataDir: dir }).names()).rejects.toThrow(/GIMO_MASTER_KEY, which is not set/);
    const other = dataDir();
    await openVault({ dataDir: other }).set("TOKEN", secret);
    await expect(openVault({ dataDir: other, masterKey: "x" }).names()).rejects.toThrow(
      /unset GIMO_MASTER_KEY/,
    );
    rmSync(join(other, vaultKeyFileName));
    await expect(openVault({ dataDir: other }).names()).rejects.toThrow(/key file .* is missing/);
  });

  it("detects tampering with the ciphertext, the tag or the header", async () => {
    const dir = dataDir();
    await openVault({ dataDir: dir, masterKey: "k" }).set("TOKEN", secret);
    const file = join(dir, vaultFileName);
    const original = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString("base64");
    };
    for (const field of ["data", "tag", "iv"]) {
      writeFileSync(file, JSON.stringify({ ...original, [field]: flip(original[field] ?? "") }));
      await expect(openVault({ dataDir: dir, masterKey: "k" }).get("TOKEN")).rejects.toThrow(
        /integrity check/,
      );
    }
    writeFileSync(file, JSON.stringify({ ...original, salt: flip(original.salt ?? "") }));
    await expect(openVault({ dataDir: dir, masterKey: "k" }).get("TOKEN")).rejects.toThrow(VaultUnusable);
    writeFileSync(file, "{ not json");
    await expect(openVault({ dataDir: dir, masterKey: "k" }).get("TOKEN")).rejects.toThrow(/cannot be read/);
  });

  it("refuses invalid names and empty values", async () => {
    const vault = openVault({ dataDir: dataDir(), masterKey: "k" });
    await expect(vault.set("not a name", "v")).rejects.toThrow(/secret name/);
    await expect(vault.set("OK", "")).rejects.toThrow(/empty/);
  });

  it("seals single values with its key, and tells a wrong key from a tampered value", async () => {
    for (const masterKey of ["k", undefined]) {
      const dir = dataDir();
      const vault = openVault({ dataDir: dir, masterKey });
      const sealed = await vault.sealValue(secret);
      expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
      expect(sealed).not.toContain(secret);
      expect(sealed).not.toContain("${");
      expect(await vault.sealValue(secret)).not.toBe(sealed); // a fresh nonce each time
      expect(await openVault({ dataDir: dir, masterKey }).openValue(sealed)).toBe(secret);
      const other = openVault({ dataDir: dataDir(), masterKey: masterKey ? "another key" : undefined });
      if (!masterKey) await other.sealValue("create its own key file");
      await expect(other.openValue(sealed)).rejects.toThrow(/different/);
      const flipped = `${sealed.slice(0, -3)}${sealed.endsWith("A") ? "B" : "A"}${sealed.slice(-2)}`;
      await expect(vault.openValue(flipped)).rejects.toThrow(VaultUnusable);
      await expect(vault.openValue(`${SEALED_PREFIX}garbage`)).rejects.toThrow(/modified/);
    }
  });
});
