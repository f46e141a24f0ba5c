import { describe, expect, it } from "vitest";
import {
  type Element,
  parseShell,
  type Script,
  ShellSyntaxError,
  simpleCommands,
  type Word,
} from "./shell-syntax.ts";

/**
 * The shell reader (shell-syntax.ts), row by row: each separator and operator beside its near miss,
 * each kind of quoting and expansion, redirections with and without a file descriptor,
 * here-documents, groups, function definitions, and every input it must refuse with the reason it
 * gives. The command policy's tables read whole commands through it; this table holds each rule
 * of the grammar in place, so changing any one fails a row of its own (`npm run
 * test:mutation:command` measures it).
 *
 * A parsed script is shown compactly: a script is its pipelines, a pipeline its elements, a simple
 * command its words (a plain word as its text; otherwise `{t, q, tilde, subs, p}` with only what is
 * set) followed by its redirections (`{op, to, doc}`), a group `{sub}` (subshell) or `{brace}`.
 */
type Shown = unknown;

function word(w: Word): Shown {
  if (!w.quoted && !w.tilde && w.subs.length === 0 && !w.process) return w.text;
  return {
    t: w.text,
    ...(w.quoted ? { q: true } : {}),
    ...(w.tilde ? { tilde: true } : {}),
    ...(w.subs.length ? { subs: w.subs } : {}),
    ...(w.process ? { p: true } : {}),
  };
}

function element(e: Element): Shown {
  if (e.type === "group") return e.subshell ? { sub: script(e.script) } : { brace: script(e.script) };
  return [
    ...e.words.map(word),
    ...e.redirects.map((r) => ({
      op: r.op,
      to: word(r.target),
      ...(r.heredoc !== undefined ? { doc: r.heredoc } : {}),
    })),
  ];
}

function script(s: Script): Shown {
  return s.pipelines.map((p) => p.elements.map(element));
}

const show = (src: string) => script(parseShell(src));

describe("parseShell: what it reads", () => {
  const cases: [string, Shown][] = [
    // separators: each ends a pipeline; | and |& join one
    ["a b", [[["a", "b"]]]],
    ["a;b", [[["a"]], [["b"]]]],
    ["a&b", [[["a"]], [["b"]]]],
    ["a&&b", [[["a"]], [["b"]]]],
    ["a||b", [[["a"]], [["b"]]]],
    ["a\nb", [[["a"]], [["b"]]]],
    ["a ;; b", [[["a"]], [["b"]]]],
    ["a|b", [[["a"], ["b"]]]],
    ["a|&b", [[["a"], ["b"]]]],
    ["a | b | c", [[["a"], ["b"], ["c"]]]],
    ["a &", [[["a"]]]],
    ["; a ;", [[["a"]]]],
    ["", []],
    [" \t\r", []],
    ["a\t\rb", [[["a", "b"]]]],
    // comments run to the end of the line, and only where a word starts
    ["a # b; c", [[["a"]]]],
    ["a #b", [[["a"]]]],
    ["a b#", [[["a", "b#"]]]],
    ["# only a comment", []],
    ["a\n# b\n", [[["a"]]]],
    ["a # b\nc", [[["a"]], [["c"]]]],
    ["#x\na", [[["a"]]]],
    ["a#b", [[["a#b"]]]],
    // groups
    ["(a; b) | c", [[{ sub: [[["a"]], [["b"]]] }, ["c"]]]],
    ["(a)", [[{ sub: [[["a"]]] }]]],
    ["((a))", [[{ sub: [[{ sub: [[["a"]]] }]] }]]],
    ["{ a; b; }", [[{ brace: [[["a"]], [["b"]]] }]]],
    ["{ a;}", [[{ brace: [[["a"]]] }]]],
    ["{\na\n}", [[{ brace: [[["a"]]] }]]],
    ["{ a; }|b", [[{ brace: [[["a"]]] }, ["b"]]]],
    ["{ a; }>x", [[{ brace: [[["a"]]] }, [{ op: ">", to: "x" }]]]],
    ["{ a; }&& b", [[{ brace: [[["a"]]] }], [["b"]]]],
    ["{ a }x; }", [[{ brace: [[["a", "}x"]]] }]]],
    ["{a", [[["{a"]]]],
    ["a }", [[["a", "}"]]]],
    ["{ { a; }; }", [[{ brace: [[{ brace: [[["a"]]] }]] }]]],
    ["{ a; b}; }", [[{ brace: [[["a"]], [["b}"]]] }]]],
    ["{ (a) }", [[{ brace: [[{ sub: [[["a"]]] }]] }]]],
    ["a; }", [[["a"]], [["}"]]]],
    ["&>x", [[[{ op: "&>", to: "x" }]]]],
    ["( { a; } )", [[{ sub: [[{ brace: [[["a"]]] }]] }]]],
    // a `case` pattern's ")" outside a subshell is a separator
    ["case x in a) b;; esac", [[["case", "x", "in", "a"]], [["b"]], [["esac"]]]],
    // function definitions: the name is dropped, the body is the next element
    ["f () { a; }", [[{ brace: [[["a"]]] }]]],
    ["f() { a; }", [[{ brace: [[["a"]]] }]]],
    ["f ( ) { a; }", [[{ brace: [[["a"]]] }]]],
    // words: quotes, escapes, tilde
    ["'a b'", [[[{ t: "a b", q: true }]]]],
    ["'$x'", [[[{ t: "$x", q: true }]]]],
    ['"a b"', [[[{ t: "a b", q: true }]]]],
    ['""', [[[{ t: "", q: true }]]]],
    ["a'b'c", [[[{ t: "abc", q: true }]]]],
    ["a\\ b", [[[{ t: "a b", q: true }]]]],
    ["a\\;b", [[[{ t: "a;b", q: true }]]]],
    ["\\$x", [[[{ t: "$x", q: true }]]]],
    ["a\\", [[[{ t: "a", q: true }]]]],
    ["a\\\nb", [[["ab"]]]],
    ["a \\\n b", [[["a", "b"]]]],
    ['"a\\$b"', [[[{ t: "a$b", q: true }]]]],
    ['"a\\`b"', [[[{ t: "a`b", q: true }]]]],
    ['"a\\"b"', [[[{ t: 'a"b', q: true }]]]],
    ['"a\\\\b"', [[[{ t: "a\\b", q: true }]]]],
    ['"a\\\nb"', [[[{ t: "ab", q: true }]]]],
    ['"a\\bc"', [[[{ t: "a\\bc", q: true }]]]],
    ['"a;b|c"', [[[{ t: "a;b|c", q: true }]]]],
    ["~/x", [[[{ t: "~/x", tilde: true }]]]],
    ["a~", [[["a~"]]]],
    ["'~'", [[[{ t: "~", q: true }]]]],
    // expansions inside words
    ["$x", [[["$x"]]]],
    ["$x_1y", [[["$x_1y"]]]],
    ["a$1b", [[["a$1b"]]]],
    ["$?", [[["$?"]]]],
    ["$@$*$#$$$!$-", [[["$@$*$#$$$!$-"]]]],
    ["$", [[["$"]]]],
    ["$.", [[["$."]]]],
    ["a$", [[["a$"]]]],
    ["${x}", [[["${x}"]]]],
    ["${x:-a b}", [[["${x:-a b}"]]]],
    ["${a:-{b} c}", [[["${a:-{b} c}"]]]],
    ["$ b", [[["$", "b"]]]],
    ["${x#}}", [[["${x#}}"]]]],
    ["$((1 + 2))", [[["$((1 + 2))"]]]],
    ["$(( (1) ))x", [[["$(( (1) ))x"]]]],
    ["$(a b)", [[[{ t: "$(a b)", subs: ["a b"] }]]]],
    ["x$(a)y", [[[{ t: "x$(a)y", subs: ["a"] }]]]],
    ["$(a $(b))", [[[{ t: "$(a $(b))", subs: ["a $(b)"] }]]]],
    ["$(a ')')", [[[{ t: "$(a ')')", subs: ["a ')'"] }]]]],
    ['$(a ")")', [[[{ t: '$(a ")")', subs: ['a ")"'] }]]]],
    ['$(a "\\"")', [[[{ t: '$(a "\\"")', subs: ['a "\\""'] }]]]],
    ["$(a \\))", [[[{ t: "$(a \\))", subs: ["a \\)"] }]]]],
    ["$(a `)`)", [[[{ t: "$(a `)`)", subs: ["a `)`"] }]]]],
    ["`a b`", [[[{ t: "`a b`", subs: ["a b"] }]]]],
    ["`a \\`b\\` \\$c \\\\d \\e`", [[[{ t: "`a \\`b\\` \\$c \\\\d \\e`", subs: ["a `b` $c \\d \\e"] }]]]],
    ['"$(a) `b` $c"', [[[{ t: "$(a) `b` $c", q: true, subs: ["a", "b"] }]]]],
    ['"${x}"', [[[{ t: "${x}", q: true }]]]],
    ['"a$"', [[[{ t: "a$", q: true }]]]],
    // process substitution: a word of its own
    [
      "diff <(a) >(b)",
      [[["diff", { t: "<(a)", subs: ["a"], p: true }, { t: ">(b)", subs: ["b"], p: true }]]],
    ],
    ["a <(b (c))", [[["a", { t: "<(b (c))", subs: ["b (c)"], p: true }]]]],
    // redirections, with and without a file descriptor
    ["a > x", [[["a", { op: ">", to: "x" }]]]],
    ["a >x <y", [[["a", { op: ">", to: "x" }, { op: "<", to: "y" }]]]],
    ["a 2> x", [[["a", { op: ">", to: "x" }]]]],
    ["a 2>&1", [[["a", { op: ">&", to: "1" }]]]],
    ["a >> x", [[["a", { op: ">>", to: "x" }]]]],
    ["a &> x", [[["a", { op: "&>", to: "x" }]]]],
    ["a &>> x", [[["a", { op: "&>>", to: "x" }]]]],
    ["a&>x", [[["a", { op: "&>", to: "x" }]]]],
    ["a 2&>x", [[["a", "2", { op: "&>", to: "x" }]]]],
    ["a > >(b)", [[["a", { op: ">", to: { t: ">(b)", subs: ["b"], p: true } }]]]],
    ["a < <(b)", [[["a", { op: "<", to: { t: "<(b)", subs: ["b"], p: true } }]]]],
    ["a > x\nb", [[["a", { op: ">", to: "x" }]], [["b"]]]],
    ["a >| x", [[["a", { op: ">|", to: "x" }]]]],
    ["a <> x", [[["a", { op: "<>", to: "x" }]]]],
    ["a <& 3", [[["a", { op: "<&", to: "3" }]]]],
    ["a <<< 'w x'", [[["a", { op: "<<<", to: { t: "w x", q: true } }]]]],
    ["a > ''", [[["a", { op: ">", to: { t: "", q: true } }]]]],
    ["> x", [[[{ op: ">", to: "x" }]]]],
    ["a>x|b", [[["a", { op: ">", to: "x" }], ["b"]]]],
    ["a 12>x", [[["a", { op: ">", to: "x" }]]]],
    ["a x2>y", [[["a", "x2", { op: ">", to: "y" }]]]],
    // here-documents: the body is read after the line, up to the delimiter
    [
      "cat <<EOF\nhello\nworld\nEOF\nnext",
      [[["cat", { op: "<<", to: "EOF", doc: "hello\nworld" }]], [["next"]]],
    ],
    ["cat <<-EOF\n\t\thello\n\tEOF\n", [[["cat", { op: "<<-", to: "EOF", doc: "hello" }]]]],
    ["cat <<-EOF\na\tb\nEOF", [[["cat", { op: "<<-", to: "EOF", doc: "a\tb" }]]]],
    ["cat <<EOF\n\thello\n\tEOF\nEOF\n", [[["cat", { op: "<<", to: "EOF", doc: "\thello\n\tEOF" }]]]],
    ["cat <<'E'\n$x\nE", [[["cat", { op: "<<", to: { t: "E", q: true }, doc: "$x" }]]]],
    ["cat <<EOF\nunterminated", [[["cat", { op: "<<", to: "EOF", doc: "unterminated" }]]]],
    ["cat <<EOF", [[["cat", { op: "<<", to: "EOF" }]]]],
    ["cat <<EOF\n\nx\nEOF", [[["cat", { op: "<<", to: "EOF", doc: "\nx" }]]]],
    [
      "a <<A; b <<B\n1\nA\n2\nB\nc",
      [[["a", { op: "<<", to: "A", doc: "1" }]], [["b", { op: "<<", to: "B", doc: "2" }]], [["c"]]],
    ],
    ["cat <<EOF\nEOFx\nEOF", [[["cat", { op: "<<", to: "EOF", doc: "EOFx" }]]]],
  ];

  it.each(cases)("%j", (src, expected) => {
    expect(show(src)).toEqual(expected);
  });
});

describe("parseShell: what it refuses, and why", () => {
  const cases: [string, string][] = [
    ["'a", "unterminated single quote"],
    ['"a', "unterminated double quote"],
    ["`a", "unterminated backquote"],
    ["$(a", 'missing ")"'],
    ["$(a 'b)", "unterminated single quote"],
    ['$(a "b)', "unterminated double quote"],
    ["$(a `b)", "unterminated backquote"],
    ["${a", 'missing "}"'],
    ["$((1 + 2)", "unterminated $(("],
    ["$((1 + 2", 'missing ")"'],
    ["(a", 'missing ")"'],
    ["{ a", 'missing "}"'],
    ["{", 'missing "}"'],
    ['"a\\', "unterminated double quote"],
    ["{ a }", 'missing "}"'],
    ["a (b)", 'unexpected "("'],
    ["a b () { c; }", 'unexpected "("'],
    ["f (a) ()", 'unexpected "("'],
    ["a >", "a redirection > has no target"],
    ["a > ;", "a redirection > has no target"],
    ["a 2>&", "a redirection >& has no target"],
    ["a <<", "a redirection << has no target"],
    ["a > >b", "a redirection > has no target"],
    ["a > <b", "a redirection > has no target"],
    ["a > ((b)", "a redirection > has no target"],
    ["a > \\\n", "a redirection > has no target"],
    ["<(a", 'missing ")"'],
  ];

  it.each(cases)("%s → %s", (src, why) => {
    expect(() => parseShell(src)).toThrow(new ShellSyntaxError(why));
  });
});

describe("simpleCommands", () => {
  it("lists every simple command, inside groups too, in order", () => {
    const commands = [...simpleCommands(parseShell("a | (b; { c; }) && d"))].map((c) =>
      c.words.map((w) => w.text).join(" "),
    );
    expect(commands).toEqual(["a", "b", "c", "d"]);
  });
});
