/**
 * Structured JSON logs, one line each, to stderr. `redact` hides every value registered as secret
 * (tokens, API keys) wherever it appears in a line, so a secret cannot leak through a log.
 */
export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Registers a value that must never appear in a log line. */
  addSecret(value: string): void;
}

export function createLogger(
  level: Level | "silent",
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const secrets = new Set<string>();
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    let line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...fields });
    for (const s of secrets) line = line.split(s).join("[redacted]");
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    addSecret: (v) => {
      if (v.length >= 6) secrets.add(v);
    },
  };
}
