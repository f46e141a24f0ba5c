/**
 * The commit message of a run (SPEC §4, step 4): not a safety rule but the shape reviewers read.
 *
 * The commit message is conventional: `type: subject` (≤ 72 characters) where the type is
 * inferred from the plan's title — by its leading verb (`Fix …` → fix, `Rename …` → refactor,
 * `Bump …` → chore; a fix of docs or tests is docs or test), else by its object (`Add unit tests
 * for …` → test), else by keywords (README → docs, crash → fix), else feat; a title that already
 * reads `fix: …` or `feat(x): …` keeps its type. Then a body from the plan's summary wrapped at 72
 * columns (code blocks kept verbatim), then one trailer block, last: `Gimo-Risk` (when not low), `Gimo-Run: r_…`,
 * `Gimo-Approved: a_… sha256:…`. Because the trailers are the final paragraph, a summary cannot
 * forge them (`git interpret-trailers` reads only the last one).
 */

export interface CommitPlan {
  title: string;
  summary?: string | undefined;
  risk?: string | undefined;
}

export interface CommitTrailers {
  /** The run id, `r_…`. */
  run: string;
  /** The approved snapshot's id, `a_…`. */
  approved: string;
  /** The approved plan's content hash, `sha256:…`. */
  hash: string;
}

export type CommitType = "feat" | "fix" | "test" | "docs" | "refactor" | "chore";

export const SUBJECT_MAX = 72;
const BODY_WIDTH = 72;

/** A leading verb decides the type; without one, keywords anywhere do (in this order). */
const TYPE_RULES: { type: CommitType; lead: RegExp; anywhere: RegExp }[] = [
  {
    type: "docs",
    lead: /^(document|docs?)\b/,
    anywhere: /\b(readme|docs|documentation|docstrings?|changelog|jsdoc|typos?)\b/,
  },
  { type: "test", lead: /^(test|tests|cover)\b/, anywhere: /\b(tests?|specs?|test coverage)\b/ },
  {
    type: "fix",
    lead: /^(fix|fixes|fixed|repair|resolve|correct|patch|hotfix|prevent|handle|stop)\b/,
    anywhere: /\b(bug|bugs|crash|crashes|regression|broken|error|errors|leak|race)\b/,
  },
  {
    type: "refactor",
    lead: /^(refactor|rename|restructure|reorgani[sz]e|simplify|extract|split|move|inline|clean ?up)\b/,
    anywhere: /\b(refactor|refactoring|dead code)\b/,
  },
  {
    type: "chore",
    lead: /^(bump|upgrade|chore|configure|release|format|lint)\b/,
    anywhere: /\b(dependencies|deps|dependency|ci|build script|tooling|lockfile)\b/,
  },
];

/** "Add unit tests for …", "Increase test coverage …": the tests are the object of the title. */
const TESTS_AS_OBJECT =
  /^([\w-]+\s+){0,3}(unit |integration |e2e |regression )?(tests?|specs?|test coverage)\b/;

const CONVENTIONAL = /^(feat|fix|test|docs|refactor|chore|perf|build|ci|style|revert)(\([^)]*\))?!?:\s*/i;

/** The commit type a plan title suggests. */
export function inferCommitType(title: string): CommitType {
  const given = CONVENTIONAL.exec(title.trim());
  if (given) {
    const t = (given[1] as string).toLowerCase();
    if (t === "perf" || t === "style") return "refactor";
    if (t === "build" || t === "ci" || t === "revert") return "chore";
    return t as CommitType;
  }
  const text = title.trim().toLowerCase();
  const rule = (type: CommitType) => TYPE_RULES.find((r) => r.type === type) as (typeof TYPE_RULES)[number];
  const lead = TYPE_RULES.find((r) => r.lead.test(text));
  if (lead?.type === "fix") {
    // "Fix typos in the README" is docs, "Fix the flaky tests" is test.
    if (rule("docs").anywhere.test(text)) return "docs";
    if (rule("test").anywhere.test(text)) return "test";
  }
  if (lead) return lead.type;
  if (TESTS_AS_OBJECT.test(text)) return "test";
  for (const r of TYPE_RULES) if (r.type !== "test" && r.anywhere.test(text)) return r.type;
  return "feat";
}

/** `type: subject`, one line, at most 72 characters. */
export function commitSubject(title: string): string {
  const type = inferCommitType(title);
  let subject = title
    .replace(/\s+/g, " ")
    .trim()
    .replace(CONVENTIONAL, "")
    .replace(/[.\s]+$/, "");
  // Lower-case the first letter unless the first word is an acronym or a name in capitals (README, API).
  if (/^[A-Z][a-z]/.test(subject)) subject = subject[0]?.toLowerCase() + subject.slice(1);
  if (subject === "") subject = "changes";
  const prefix = `${type}: `;
  const room = SUBJECT_MAX - prefix.length;
  if (subject.length > room) {
    const cut = subject.slice(0, room - 1);
    const space = cut.lastIndexOf(" ");
    subject = `${(space > room / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, "")}…`;
  }
  return prefix + subject;
}

/** The whole commit message: subject, wrapped summary, trailers. */
export function conventionalMessage(plan: CommitPlan, trailers: CommitTrailers): string {
  const parts = [commitSubject(plan.title)];
  const body = wrapMarkdown((plan.summary ?? "").trim(), BODY_WIDTH);
  if (body) parts.push(body);
  const lines: string[] = [];
  if (plan.risk && plan.risk !== "low") lines.push(`Gimo-Risk: ${oneLine(plan.risk)}`);
  lines.push(`Gimo-Run: ${oneLine(trailers.run)}`);
  lines.push(`Gimo-Approved: ${oneLine(trailers.approved)} ${oneLine(trailers.hash)}`);
  parts.push(lines.join("\n"));
  return `${parts.join("\n\n")}\n`;
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}

/** Wraps markdown prose at `width`; keeps fenced code, headings, tables and long words as they are. */
export function wrapMarkdown(text: string, width: number): string {
  if (!text) return "";
  const out: string[] = [];
  let paragraph: string[] = [];
  let indent = "";
  let fenced = false;
  const flush = () => {
    if (paragraph.length) out.push(...wrapWords(paragraph.join(" "), width, indent));
    paragraph = [];
    indent = "";
  };
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.replace(/\s+$/, "");
    if (/^\s*(```|~~~)/.test(line)) {
      flush();
      fenced = !fenced;
      out.push(line);
    } else if (fenced || /^\s*(#|\||>)/.test(line) || /^( {4}|\t)/.test(raw)) {
      flush();
      out.push(line);
    } else if (line.trim() === "") {
      flush();
      out.push("");
    } else {
      const item = /^(\s*)([-*+]|\d+[.)])\s+/.exec(line);
      if (item) {
        flush();
        indent = " ".repeat((item[0] as string).length);
        paragraph.push(line.trimEnd());
      } else paragraph.push(line.trim());
    }
  }
  flush();
  return out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function wrapWords(text: string, width: number, hangingIndent: string): string[] {
  const lead = /^\s*/.exec(text)?.[0] ?? "";
  const words = text.trim().split(/\s+/);
  const lines: string[] = [];
  let current = lead;
  for (const word of words) {
    const blank = current.trim() === "";
    if (!blank && current.length + 1 + word.length > width) {
      lines.push(current);
      current = hangingIndent + word;
    } else current = blank ? current + word : `${current} ${word}`;
  }
  if (current.trim()) lines.push(current);
  return lines;
}
