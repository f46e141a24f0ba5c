/**
 * Hides secret values in text before it is stored or shown: run log lines, error messages from
 * runners, anything that may echo an environment. Secrets shorter than 6 characters are not
 * registered (they would redact ordinary words).
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  readonly #listeners: ((secret: string) => void)[] = [];

  add(value: string | undefined): void {
    if (!value || value.length < 6 || this.#secrets.has(value)) return;
    this.#secrets.add(value);
    for (const listener of this.#listeners) listener(value);
  }

  /** Calls `listener` with every secret, now and as they are added (the logger's redaction). */
  onAdd(listener: (secret: string) => void): void {
    this.#listeners.push(listener);
    for (const secret of this.#secrets) listener(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
    return out;
  }
}
