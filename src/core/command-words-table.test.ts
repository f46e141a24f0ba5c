import { describe, expect, it } from "vitest";
import { hasFlag, invocation, operands, optionValues, place, placeOf, within } from "./command-words.ts";
import { parseShell, simpleCommands, type Word } from "./shell-syntax.ts";

/**
 * The word helpers of the command policy (command-words.ts), one table per function: every wrapper
 * with each of its value options, every keyword and non-command, each way of writing an option
 * value, and every place a path can land, each beside its near miss. The policy's tables test
 * these helpers through whole commands; these hold each entry and boundary in place, so deleting
 * or loosening one fails a row of its own (`npm run test:mutation:command` measures it).
 */
const words = (command: string): Word[] => [...simpleCommands(parseShell(command))][0]?.words ?? [];
const texts = (ws: Word[]) => ws.map((w) => w.text);
const program = (command: string) => {
  const inv = invocation(words(command));
  return inv ? [inv.name, ...texts(inv.args)].join(" ") : undefined;
};

describe("invocation: the program a simple command runs", () => {
  const cases: [string, string | undefined][] = [
    ["git push", "git push"],
    ["/usr/bin/git push", "git push"],
    // assignments before the program
    ["A=1 git push", "git push"],
    ["A+=1 git push", "git push"],
    ["a_1=x git push", "git push"],
    ["_x=1 git push", "git push"],
    ["arr[1]=x git push", "git push"],
    ["arr[]=x git push", "git push"],
    ["A= git push", "git push"],
    ["1A=x git push", "1A=x git push"],
    ["-A=x git", "-A=x git"],
    ["A-B=x git", "A-B=x git"],
    ["A[1=x git", "A[1=x git"],
    ["A+x=1 git", "A+x=1 git"],
    ["A", "A"],
    ["A=1", undefined],
    ["x=1 y=2", undefined],
    ["iff git push", "iff git push"],
    ["time A=1 git push", "git push"],
    // not a command at all
    ...["for", "case", "select", "function", "in", "[[", "]]"].map((k): [string, undefined] => [
      `${k} x`,
      undefined,
    ]),
    ["fore x", "fore x"],
    // wrappers, each with the options that take a value
    ["env A=1 git push", "git push"],
    ...["-u", "--unset", "-C", "--chdir"].map((o): [string, string] => [`env ${o} X git push`, "git push"]),
    ["env -i git push", "git push"],
    ["env -S 'git push'", "sh -c git push"],
    ["env --split-string 'git push'", "sh -c git push"],
    ["env --split-string='git push'", "sh -c git push"],
    ["env -Sgit", "sh -c git"],
    ["command git push", "git push"],
    ["command -p git push", "git push"],
    ["command -v git", undefined],
    ["command -V git", undefined],
    ["command git -v", undefined],
    ["builtin echo x", "echo x"],
    ["exec git push", "git push"],
    ["exec -a name git push", "git push"],
    ["exec -c git push", "git push"],
    ["nohup git push", "git push"],
    ["setsid git push", "git push"],
    ...["-i", "-o", "-e", "--input", "--output", "--error"].map((o): [string, string] => [
      `stdbuf ${o} L git push`,
      "git push",
    ]),
    ["stdbuf -oL git push", "git push"],
    ["nice git push", "git push"],
    ["nice -n 5 git push", "git push"],
    ["nice --adjustment 5 git push", "git push"],
    ["nice -5 git push", "git push"],
    ...["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"].map((o): [string, string] => [
      `ionice ${o} 2 git push`,
      "git push",
    ]),
    ["timeout 10 git push", "git push"],
    ...["-s", "-k", "--signal", "--kill-after"].map((o): [string, string] => [
      `timeout ${o} 9 10 git push`,
      "git push",
    ]),
    ["timeout --foreground 10 git push", "git push"],
    ...["-n", "-L", "-P", "-s", "-I", "-d", "-a", "-E"].map((o): [string, string] => [
      `xargs ${o} 1 git push`,
      "git push",
    ]),
    ...["--max-args", "--max-procs", "--delimiter", "--arg-file", "--replace", "--max-lines"].map(
      (o): [string, string] => [`xargs ${o} 1 git push`, "git push"],
    ),
    ["xargs -0 git push", "git push"],
    ["chronic git push", "git push"],
    ["unbuffer git push", "git push"],
    ["taskset 0x1 git push", "git push"],
    ["taskset -c 0x1 git push", "git push"],
    ["caffeinate git push", "git push"],
    ["busybox sh -c x", "sh -c x"],
    ["doas git push", "doas git push"],
    ["/usr/bin/doas -u root git", "doas -u root git"],
    // wrappers nested, options ended by --, a lone - as an operand
    ["env A=1 nice -n 5 timeout 10 git push", "git push"],
    ["nice -- git push", "git push"],
    ["nice -n -- git push", "git push"],
    ["env - git push", "- git push"],
    // wrappers without value options still skip their flags
    ...["command", "builtin", "nohup", "setsid", "chronic", "unbuffer", "caffeinate", "busybox"].map(
      (w): [string, string] => [`${w} -x git push`, "git push"],
    ),
    ["taskset -x 0x1 git push", "git push"],
    // -v/-V only make `command` a lookup, and only after it
    ["nice git push -v", "git push -v"],
    ["env -v command git push", "git push"],
    // only env reads -S as a command line, and only its own
    ["nohup -Sx git push", "git push"],
    ["nohup -Sx env git push", "git push"],
    ["nice -- -n git", "-n git"],
    ["nohup", undefined],
    ["env -u", undefined],
    ["timeout 10", undefined],
  ];
  it.each(cases)("%s → %s", (command, expected) => {
    expect(program(command)).toBe(expected);
  });

  // Keywords come as words of their own here (the reader would take `{` or `fi` as syntax).
  it.each([
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
    "!",
    "time",
    "fi",
    "done",
    "esac",
    "{",
    "}",
  ])("skips the keyword %s", (keyword) => {
    const plain = (text: string): Word => ({ text, quoted: false, tilde: false, subs: [], process: false });
    expect(invocation([keyword, "git", "push"].map(plain))).toEqual({
      name: "git",
      args: ["push"].map(plain),
    });
  });

  it("keeps the words it hands on as they were written", () => {
    const inv = invocation(words("nice -n 5 git 'push' $x"));
    expect(inv?.args).toEqual([
      { text: "push", quoted: true, tilde: false, subs: [], process: false },
      { text: "$x", quoted: false, tilde: false, subs: [], process: false },
    ]);
    const split = invocation(words('env -S "git push"'));
    expect(split?.args.map((w) => [w.text, w.quoted])).toEqual([
      ["-c", true],
      ["git push", true],
    ]);
  });
});

describe("operands: the arguments that are not options", () => {
  const cases: [string, string[], string[]][] = [
    ["a b", [], ["a", "b"]],
    ["-x a", [], ["a"]],
    ["-o out a", [], ["out", "a"]],
    ["-o out a", ["-o"], ["a"]],
    ["--output out a", ["--output"], ["a"]],
    ["--output=out a", ["--output"], ["a"]],
    ["-- -x a", [], ["-x", "a"]],
    ["a -- -- b", [], ["a", "--", "b"]],
    ["- a", [], ["-", "a"]],
    ["a -o", ["-o"], ["a"]],
  ];
  it.each(cases)("%s (values of %j) → %j", (args, values, expected) => {
    expect(texts(operands(words(args), values))).toEqual(expected);
  });
});

describe("optionValues: the value of an option however it is written", () => {
  const cases: [string, string | undefined, string[], string[]][] = [
    ["-o out", "o", [], ["out"]],
    ["-sSLo out", "o", [], ["out"]],
    ["-os out", "o", [], ["s"]],
    ["-so out", "o", [], ["out"]],
    ["-oout", "o", [], ["out"]],
    ["-o=out", "o", [], ["=out"]],
    ["-o", "o", [], []],
    ["-x out", "o", [], []],
    ["-o1 x", "o", [], ["1"]],
    ["-o a -o b", "o", [], ["a", "b"]],
    ["--output out", undefined, ["--output"], ["out"]],
    ["--output=out", undefined, ["--output"], ["out"]],
    ["--output", undefined, ["--output"], []],
    ["--outputs out", undefined, ["--output"], []],
    ["--output=a --out b", "o", ["--output", "--out"], ["a", "b"]],
    ["-- -o out", "o", [], []],
    ["a -o out -- -o x", "o", [], ["out"]],
    ["-o out", undefined, [], []],
  ];
  it.each([
    ["-uo out", ["-u"], []],
    ["-ou out", ["-u"], ["u"]],
    ["-xo out", ["-u"], ["out"]],
    ["-uo out", ["--u"], ["out"]],
    ["-a-o x", ["--long"], ["x"]],
  ])("%s with %j taking values → %j", (args, others, expected) => {
    expect(texts(optionValues(words(args), "o", [], others))).toEqual(expected);
  });
  it.each(cases)("%s (-%s, %j) → %j", (args, short, long, expected) => {
    expect(texts(optionValues(words(args), short, long))).toEqual(expected);
  });

  it("marks values cut out of a word as not tilde-expanded", () => {
    const [inline] = optionValues(words("--output=~/x"), undefined, ["--output"]);
    expect(inline).toMatchObject({ text: "~/x", tilde: false });
    const [attached] = optionValues(words("-o~/x"), "o", []);
    expect(attached).toMatchObject({ text: "~/x", tilde: false });
    const [separate] = optionValues(words("-o ~/x"), "o", []);
    expect(separate).toMatchObject({ text: "~/x", tilde: true });
  });
});

describe("hasFlag: a short flag in any cluster, or a long option", () => {
  const cases: [string, string, string[], boolean][] = [
    ["-r", "r", [], true],
    ["-fr", "r", [], true],
    ["-rf", "r", [], true],
    ["-f", "r", [], false],
    ["-R", "r", [], false],
    ["-1r", "r", [], true],
    ["-r-x", "r", [], false],
    ["x-r", "r", [], false],
    ["-r=1", "r", [], false],
    ["r", "r", [], false],
    ["--recursive", "r", ["--recursive"], true],
    ["--recursive=yes", "", ["--recursive"], true],
    ["--recursivex", "", ["--recursive"], false],
    ["x--recursive=1", "", ["--recursive"], false],
    ["--recursive", "", [], false],
    ["-- -r", "r", [], false],
    ["-- --recursive", "", ["--recursive"], false],
    ["a -r", "r", [], true],
    ["-x -r", "r", [], true],
    ["-ab", "xb", [], true],
  ];
  it.each(cases)("%s has %s / %j: %s", (args, letters, longs, expected) => {
    expect(hasFlag(words(args), letters, longs)).toBe(expected);
  });
});

describe("place: where a path argument lands", () => {
  const ws = "/srv/gimo/work/ws1";
  const at = (text: string, cwd: string | undefined) => {
    const [word] = words(text);
    return place(word as Word, cwd, ws);
  };
  const cases: [string, string | undefined, ReturnType<typeof place>][] = [
    ["src/a.ts", ws, { place: "inside", path: `${ws}/src/a.ts`, contents: false }],
    [".", ws, { place: "inside", path: ws, contents: false }],
    ["./", ws, { place: "inside", path: ws, contents: false }],
    [`${ws}/`, ws, { place: "inside", path: ws, contents: false }],
    [`${ws}//x//`, ws, { place: "inside", path: `${ws}/x`, contents: false }],
    ["..", ws, { place: "above", path: "/srv/gimo/work", contents: false }],
    ["/", ws, { place: "above", path: "/", contents: false }],
    ["//", ws, { place: "above", path: "/", contents: false }],
    ["../ws1/a", ws, { place: "inside", path: `${ws}/a`, contents: false }],
    ["../ws2/a", ws, { place: "outside", path: "/srv/gimo/work/ws2/a", contents: false }],
    ["/tmp/x", ws, { place: "tmp", path: "/tmp/x", contents: false }],
    ["/tmp", ws, { place: "tmp", path: "/tmp", contents: false }],
    ["/tmpx/a", ws, { place: "outside", path: "/tmpx/a", contents: false }],
    ["/etc/passwd", ws, { place: "outside", path: "/etc/passwd", contents: false }],
    ["a", undefined, { place: "unknown" }],
    ["/etc/x", undefined, { place: "outside", path: "/etc/x", contents: false }],
    // devices
    ...["null", "zero", "stdout", "stderr", "stdin", "tty", "fd/1", "fd/12"].map(
      (d): [string, string, ReturnType<typeof place>] => [
        `/dev/${d}`,
        ws,
        { place: "device", path: `/dev/${d}`, contents: false },
      ],
    ),
    ["/dev/fd/x", ws, { place: "outside", path: "/dev/fd/x", contents: false }],
    ["/dev/fd/", ws, { place: "outside", path: "/dev/fd", contents: false }],
    ["/dev/sda", ws, { place: "outside", path: "/dev/sda", contents: false }],
    ["/dev/nullx", ws, { place: "outside", path: "/dev/nullx", contents: false }],
    ["/x/dev/null", ws, { place: "outside", path: "/x/dev/null", contents: false }],
    // home
    ["~", ws, { place: "home" }],
    ["~/", ws, { place: "home" }],
    ["~/*", ws, { place: "home" }],
    ["$HOME", ws, { place: "home" }],
    ["${HOME}/", ws, { place: "home" }],
    ['"$HOME"/*', ws, { place: "home" }],
    ["~/.bashrc", ws, { place: "outside", path: "~/.bashrc" }],
    ["$HOME/.bashrc", ws, { place: "outside", path: "$HOME/.bashrc" }],
    ["${HOME}/x", ws, { place: "outside", path: "${HOME}/x" }],
    ["~x", ws, { place: "outside", path: "~x" }],
    ["~/a~", ws, { place: "outside", path: "~/a~" }],
    ["'~'", ws, { place: "inside", path: `${ws}/~`, contents: false }],
    ["$HOMEDIR/x", ws, { place: "unknown" }],
    ["x$HOME", ws, { place: "inside", path: ws, contents: true }],
    // variables, globs and substitutions
    ["$DIR/x", ws, { place: "unknown" }],
    ["`pwd`/x", ws, { place: "unknown" }],
    ["*", ws, { place: "inside", path: ws, contents: true }],
    ["src/*", ws, { place: "inside", path: `${ws}/src`, contents: true }],
    ["src/$x", ws, { place: "inside", path: `${ws}/src`, contents: true }],
    ["src/a?", ws, { place: "inside", path: `${ws}/src`, contents: true }],
    ["src/[ab]", ws, { place: "inside", path: `${ws}/src`, contents: true }],
    ["/*", ws, { place: "above", path: "/", contents: true }],
    ["/etc/*", ws, { place: "outside", path: "/etc", contents: true }],
    ["../*", ws, { place: "above", path: "/srv/gimo/work", contents: true }],
    [`${ws}/*`, ws, { place: "inside", path: ws, contents: true }],
    ["a*", ws, { place: "inside", path: ws, contents: true }],
    ["a*", "/etc", { place: "outside", path: "/etc", contents: true }],
    ["a*", undefined, { place: "unknown" }],
  ];
  it.each(cases)("%s (cwd %s) → %j", (text, cwd, expected) => {
    expect(at(text, cwd)).toEqual(expected);
  });

  it("reads an empty word as unknown", () => {
    expect(place({ text: "", quoted: true, tilde: false, subs: [], process: false }, ws, ws)).toEqual({
      place: "unknown",
    });
  });
});

describe("placeOf and within", () => {
  const ws = "/srv/ws";
  const cases: [string, ReturnType<typeof placeOf>][] = [
    ["/srv/ws", "inside"],
    ["/srv/ws/a", "inside"],
    ["/srv/ws2", "outside"],
    ["/srv", "above"],
    ["/", "above"],
    ["/tmp", "tmp"],
    ["/tmp/a/b", "tmp"],
    ["/dev/null", "device"],
    ["/etc", "outside"],
  ];
  it.each(cases)("%s → %s", (path, expected) => {
    expect(placeOf(path, ws)).toBe(expected);
  });

  it("within: the parent itself and what is under it, nothing else", () => {
    expect(within("/a", "/a")).toBe(true);
    expect(within("/a", "/a/b")).toBe(true);
    expect(within("/a", "/a/..b")).toBe(true);
    expect(within("/a", "/ab")).toBe(false);
    expect(within("/a/b", "/a")).toBe(false);
    expect(within("/a", "/")).toBe(false);
  });
});
