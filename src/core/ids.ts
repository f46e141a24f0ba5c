import { monotonicFactory } from "ulid";

/** Every entity id is `<prefix>_<ulid>`: sortable by creation time, recognisable at a glance. */
export const idPrefix = {
  project: "p",
  task: "t",
  draft: "d",
  approved: "a",
  run: "r",
  runner: "rn",
  token: "tk",
  chat: "c",
  message: "m",
  integration: "i",
} as const;

export type EntityKind = keyof typeof idPrefix;

export type IdFactory = (kind: EntityKind) => string;

export function createIdFactory(): IdFactory {
  const next = monotonicFactory();
  return (kind) => `${idPrefix[kind]}_${next()}`;
}

const ulidBody = "[0-9A-HJKMNP-TV-Z]{26}";

export function idPattern(kind: EntityKind): RegExp {
  return new RegExp(`^${idPrefix[kind]}_${ulidBody}$`);
}

export function kindOfId(id: string): EntityKind | undefined {
  for (const [kind, prefix] of Object.entries(idPrefix) as [EntityKind, string][]) {
    if (idPattern(kind).test(id) && id.startsWith(`${prefix}_`)) return kind;
  }
  return undefined;
}
