import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";

/**
 * The vault's sealed envelope: AES-256-GCM over the JSON of the secrets, with the header bound in
 * as associated data. Key material is either `GIMO_MASTER_KEY` stretched with scrypt over a stored
 * random salt, or 32 random bytes from the key file; HKDF then derives two independent keys from
 * it: one to encrypt, one for a key-check value that tells "wrong key" apart from "tampered file".
 */
export type KeySource = "master_key" | "key_file";

export interface Envelope {
  format: "gimo-vault";
  version: 1;
  key: KeySource;
  salt: string;
  check: string;
  iv: string;
  tag: string;
  data: string;
}

export interface DerivedKeys {
  encryption: Buffer;
  check: Buffer;
}

const scryptParams = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export function newSalt(): Buffer {
  return randomBytes(16);
}

/** Key material from the master key (scrypt) or the key file (used as is). */
export function keyMaterial(source: KeySource, secret: string | Buffer, salt: Buffer): Buffer {
  if (source === "master_key") return scryptSync(secret, salt, 32, scryptParams);
  return Buffer.isBuffer(secret) ? secret : Buffer.from(secret, "base64");
}

export function deriveKeys(material: Buffer, salt: Buffer): DerivedKeys {
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", material, salt, info, 32));
  return { encryption: derive("gimo vault v1 encryption"), check: derive("gimo vault v1 key check") };
}

function checkValue(keys: DerivedKeys): Buffer {
  return createHmac("sha256", keys.check).update("gimo-vault key check").digest().subarray(0, 16);
}

function aad(envelope: Pick<Envelope, "version" | "key" | "salt" | "check">): Buffer {
  return Buffer.from(`gimo-vault|${envelope.version}|${envelope.key}|${envelope.salt}|${envelope.check}`);
}

export function seal(plaintext: string, keys: DerivedKeys, key: KeySource, salt: Buffer): Envelope {
  const iv = randomBytes(12);
  const header = {
    version: 1 as const,
    key,
    salt: salt.toString("base64"),
    check: checkValue(keys).toString("base64"),
  };
  const cipher = createCipheriv("aes-256-gcm", keys.encryption, iv);
  cipher.setAAD(aad(header));
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    format: "gimo-vault",
    ...header,
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

export type OpenResult = { ok: true; plaintext: string } | { ok: false; reason: "wrong_key" | "tampered" };

export function open(envelope: Envelope, keys: DerivedKeys): OpenResult {
  const expected = checkValue(keys);
  const stored = Buffer.from(envelope.check, "base64");
  if (stored.length !== expected.length || !timingSafeEqual(stored, expected))
    return { ok: false, reason: "wrong_key" };
  try {
    const decipher = createDecipheriv("aes-256-gcm", keys.encryption, Buffer.from(envelope.iv, "base64"), {
      authTagLength: 16,
    });
    decipher.setAAD(aad(envelope));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(envelope.data, "base64")),
      decipher.final(),
    ]);
    return { ok: true, plaintext: plaintext.toString("utf8") };
  } catch {
    return { ok: false, reason: "tampered" };
  }
}

export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.format === "gimo-vault" &&
    v.version === 1 &&
    (v.key === "master_key" || v.key === "key_file") &&
    ["salt", "check", "iv", "tag", "data"].every((field) => typeof v[field] === "string")
  );
}
