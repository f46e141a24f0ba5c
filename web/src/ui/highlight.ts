import type { HunkData } from "react-diff-view";
import { type HunkTokens, tokenize } from "react-diff-view";
import bash from "refractor/bash";
import c from "refractor/c";
import { refractor } from "refractor/core";
import cpp from "refractor/cpp";
import css from "refractor/css";
import go from "refractor/go";
import java from "refractor/java";
import javascript from "refractor/javascript";
import json from "refractor/json";
import jsx from "refractor/jsx";
import markdown from "refractor/markdown";
import markup from "refractor/markup";
import python from "refractor/python";
import ruby from "refractor/ruby";
import rust from "refractor/rust";
import sql from "refractor/sql";
import toml from "refractor/toml";
import tsx from "refractor/tsx";
import typescript from "refractor/typescript";
import yaml from "refractor/yaml";

/**
 * Syntax highlighting for the diff view: refractor (Prism's grammars, as a syntax tree — no HTML
 * strings, no eval, so it fits the CSP) with a small set of languages, in the diff viewer's chunk
 * only (loaded with the run and task pages, never with the board). react-diff-view renders the
 * tokens as text nodes in spans, so highlighted code is still never markup.
 */
for (const lang of [
  markup,
  css,
  javascript,
  jsx,
  typescript,
  tsx,
  json,
  bash,
  python,
  go,
  rust,
  java,
  c,
  cpp,
  ruby,
  yaml,
  toml,
  markdown,
  sql,
])
  refractor.register(lang);

const BY_EXTENSION: Record<string, string> = {
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "jsx",
  ts: "typescript",
  mts: "typescript",
  cts: "typescript",
  tsx: "tsx",
  json: "json",
  css: "css",
  html: "markup",
  htm: "markup",
  xml: "markup",
  svg: "markup",
  sh: "bash",
  bash: "bash",
  py: "python",
  go: "go",
  rs: "rust",
  java: "java",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  hpp: "cpp",
  rb: "ruby",
  yml: "yaml",
  yaml: "yaml",
  toml: "toml",
  md: "markdown",
  sql: "sql",
};

export function languageOf(path: string): string | null {
  const ext = path.split("/").pop()?.split(".").pop()?.toLowerCase() ?? "";
  return BY_EXTENSION[ext] ?? null;
}

/** react-diff-view expects refractor 3's `highlight` (an array of nodes); refractor 5 answers a root. */
const adapter = {
  highlight: (text: string, language: string) => refractor.highlight(text, language).children,
};

/** The tokens of a file's hunks, or null (unknown language, or a grammar that failed: plain text). */
export function highlightHunks(hunks: HunkData[], path: string): HunkTokens | null {
  const language = languageOf(path);
  if (!language || hunks.length === 0) return null;
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the adapter has the shape tokenize calls
    return tokenize(hunks, { highlight: true, refractor: adapter as any, language });
  } catch {
    return null;
  }
}
