/**
 * A small POSIX-shell reader for the command policy (command-policy.ts): enough of the grammar to
 * find every command a string would run, never to run it. Pure, no I/O.
 *
 *   script   := sequence of pipelines joined by ; & && || and newlines
 *   pipeline := element ( | or |& element )*
 *   element  := ( script ) | { script } | simple command
 *   simple   := words and redirections; `name ()` before a body is a function definition
 *
 * Quotes are honoured: '…' is literal, "…" keeps $-expansions, \ escapes. Command substitutions
 * `$(…)` and `…`, and process substitutions <(…) >(…), are kept as raw text in the word AND their
 * bodies are listed in `subs`, so the policy parses and checks them too. A here-document's body is
 * attached to its redirection (a `sh <<EOF` script is code as well). Arithmetic `$((…))` and
 * `${…}` expansions are kept as text. Anything unterminated is a parse error: a string the reader
 * cannot follow is refused rather than guessed at.
 */
export interface Word {
  /** The value after quote removal; expansions and substitutions are left as written. */
  text: string;
  /** Some part of the word was quoted or escaped. */
  quoted: boolean;
  /** The word starts with an unquoted `~` (tilde expansion). */
  tilde: boolean;
  /** Bodies of $(…), `…`, <(…) and >(…) inside the word. */
  subs: string[];
  /** The word is a process substitution <(…) or >(…). */
  process: boolean;
}

export interface Redirect {
  op: string;
  target: Word;
  /** The body of a here-document (`<<`, `<<-`). */
  heredoc?: string;
}

export interface SimpleCommand {
  type: "simple";
  words: Word[];
  redirects: Redirect[];
}

export interface Group {
  type: "group";
  subshell: boolean;
  script: Script;
}

export type Element = SimpleCommand | Group;
export interface Pipeline {
  elements: Element[];
}
export interface Script {
  pipelines: Pipeline[];
}

export class ShellSyntaxError extends Error {}

const OPERATOR_CHARS = new Set([";", "&", "|", "(", ")", "<", ">", "\n"]);
const BLANK = new Set([" ", "\t", "\r"]);

export function parseShell(src: string): Script {
  const reader = new Reader(src);
  const script = reader.script(undefined);
  if (reader.pos < src.length) throw new ShellSyntaxError(`unexpected "${src[reader.pos]}"`);
  return script;
}

/** Every simple command of a script, in order, groups included. */
export function* simpleCommands(script: Script): Generator<SimpleCommand> {
  for (const p of script.pipelines) for (const e of p.elements) yield* elementCommands(e);
}

export function* elementCommands(e: Element): Generator<SimpleCommand> {
  if (e.type === "simple") yield e;
  else yield* simpleCommands(e.script);
}

class Reader {
  readonly src: string;
  pos = 0;
  #heredocs: Redirect[] = [];

  constructor(src: string) {
    this.src = src;
  }

  /** Pipelines until `end` (")" for a subshell, "}" for a brace group) or the end of input. */
  script(end: ")" | "}" | undefined): Script {
    const pipelines: Pipeline[] = [];
    let elements: Element[] = [];
    const close = () => {
      if (elements.length) pipelines.push({ elements });
      elements = [];
    };
    for (;;) {
      this.blanks();
      const c = this.src[this.pos];
      if (c === undefined) {
        if (end) throw new ShellSyntaxError(`missing "${end}"`);
        close();
        return { pipelines };
      }
      if (c === "\n") {
        this.pos++;
        this.readHeredocs();
        close();
        continue;
      }
      if (
        this.src.startsWith("&&", this.pos) ||
        this.src.startsWith("||", this.pos) ||
        this.src.startsWith(";;", this.pos)
      ) {
        this.pos += 2;
        close();
        continue;
      }
      if (c === ";" || (c === "&" && this.src[this.pos + 1] !== ">")) {
        this.pos++;
        close();
        continue;
      }
      if (this.src.startsWith("|&", this.pos) || c === "|") {
        this.pos += this.src[this.pos + 1] === "&" ? 2 : 1;
        continue; // the next element joins this pipeline
      }
      if (c === ")") {
        if (end === ")") {
          this.pos++;
          close();
          return { pipelines };
        }
        this.pos++; // a `case` pattern's ")": a separator
        close();
        continue;
      }
      if (c === "(") {
        this.pos++;
        elements.push({ type: "group", subshell: true, script: this.script(")") });
        continue;
      }
      const rest = this.src.slice(this.pos, this.pos + 2);
      if (/^\{(\s|$)/.test(rest)) {
        this.pos++;
        elements.push({ type: "group", subshell: false, script: this.script("}") });
        continue;
      }
      if (end === "}" && /^\}([\s;|&)<>]|$)/.test(rest)) {
        this.pos++;
        close();
        return { pipelines };
      }
      const simple = this.simple();
      if (simple.words.length || simple.redirects.length) elements.push(simple);
    }
  }

  simple(): SimpleCommand {
    const cmd: SimpleCommand = { type: "simple", words: [], redirects: [] };
    for (;;) {
      this.blanks();
      const c = this.src[this.pos];
      if (c === undefined || c === "\n" || c === ";" || c === "|" || c === ")") return cmd;
      if (c === "&" && this.src[this.pos + 1] !== ">") return cmd;
      if (c === "#") {
        // a comment: `#` where a word would start ends the command (`a#b` is a word)
        while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
        return cmd;
      }
      if (c === "(") {
        // `name () { …; }`: a function definition; its body follows as the next element.
        const m = /^\(\s*\)/.exec(this.src.slice(this.pos));
        if (m && cmd.words.length === 1) {
          this.pos += m[0].length;
          cmd.words = [];
          return cmd;
        }
        throw new ShellSyntaxError('unexpected "("');
      }
      if ((c === "<" || c === ">") && this.src[this.pos + 1] === "(") {
        cmd.words.push(this.word());
        continue;
      }
      const redirect = this.redirectOp();
      if (redirect) {
        this.blanks();
        const next = this.src[this.pos];
        const processTarget = (next === "<" || next === ">") && this.src[this.pos + 1] === "(";
        if (next === undefined || (OPERATOR_CHARS.has(next) && !processTarget))
          throw new ShellSyntaxError(`a redirection ${redirect} has no target`);
        const target = this.word();
        const r: Redirect = { op: redirect, target };
        if (redirect === "<<" || redirect === "<<-") this.#heredocs.push(r);
        cmd.redirects.push(r);
        continue;
      }
      cmd.words.push(this.word());
    }
  }

  /** A redirection operator at the cursor (with an optional fd number), or undefined. */
  redirectOp(): string | undefined {
    const m = /^(\d*)(&>>|&>|<<<|<<-|<<|<>|>>|>\||>&|<&|>|<)/.exec(this.src.slice(this.pos));
    if (!m?.[2]) return undefined;
    if (m[1] && m[2].startsWith("&")) return undefined;
    this.pos += m[0].length;
    return m[2];
  }

  word(): Word {
    const w: Word = { text: "", quoted: false, tilde: false, subs: [], process: false };
    const start = this.pos;
    const s = this.src;
    if ((s[this.pos] === "<" || s[this.pos] === ">") && s[this.pos + 1] === "(") {
      const end = this.balanced(this.pos + 2, ")");
      w.subs.push(s.slice(this.pos + 2, end));
      w.text = s.slice(this.pos, end + 1);
      w.process = true;
      this.pos = end + 1;
      return w;
    }
    w.tilde = s[this.pos] === "~";
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (BLANK.has(c) || OPERATOR_CHARS.has(c)) break;
      if (c === "\\") {
        if (s[this.pos + 1] === "\n") {
          this.pos += 2;
          continue;
        }
        w.text += s[this.pos + 1] ?? "";
        w.quoted = true;
        this.pos += 2;
      } else if (c === "'") {
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError("unterminated single quote");
        w.text += s.slice(this.pos + 1, end);
        w.quoted = true;
        this.pos = end + 1;
      } else if (c === '"') {
        w.quoted = true;
        this.pos++;
        for (;;) {
          const d = s[this.pos];
          if (d === undefined) throw new ShellSyntaxError("unterminated double quote");
          if (d === '"') break;
          if (d === "\\" && '$`"\\\n'.includes(s[this.pos + 1] ?? "")) {
            if (s[this.pos + 1] !== "\n") w.text += s[this.pos + 1];
            this.pos += 2;
          } else if (d === "$" || d === "`") this.expansion(w);
          else {
            w.text += d;
            this.pos++;
          }
        }
        this.pos++;
      } else if (c === "$" || c === "`") this.expansion(w);
      else {
        w.text += c;
        this.pos++;
      }
    }
    if (this.pos === start) throw new ShellSyntaxError(`unexpected "${s[this.pos]}"`);
    return w;
  }

  /** $(…), $((…)), ${…}, `…`, $name: appended raw; command substitutions also listed in `subs`. */
  expansion(w: Word): void {
    const s = this.src;
    const p = this.pos;
    if (s[p] === "`") {
      let end = p + 1;
      while (end < s.length && s[end] !== "`") end += s[end] === "\\" ? 2 : 1;
      if (end >= s.length) throw new ShellSyntaxError("unterminated backquote");
      w.subs.push(s.slice(p + 1, end).replace(/\\([`$\\])/g, "$1"));
      w.text += s.slice(p, end + 1);
      this.pos = end + 1;
      return;
    }
    if (s.startsWith("$((", p)) {
      const end = this.balanced(p + 3, ")");
      if (s[end + 1] !== ")") throw new ShellSyntaxError("unterminated $((");
      w.text += s.slice(p, end + 2);
      this.pos = end + 2;
      return;
    }
    if (s.startsWith("$(", p)) {
      const end = this.balanced(p + 2, ")");
      w.subs.push(s.slice(p + 2, end));
      w.text += s.slice(p, end + 1);
      this.pos = end + 1;
      return;
    }
    if (s.startsWith("${", p)) {
      const end = this.balanced(p + 2, "}");
      w.text += s.slice(p, end + 1);
      this.pos = end + 1;
      return;
    }
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])?/.exec(s.slice(p));
    w.text += m?.[0] ?? "$";
    this.pos = p + (m?.[0].length ?? 1);
  }

  /** Index of the `close` matching an opening just before `from`, skipping quotes and nesting. */
  balanced(from: number, close: ")" | "}"): number {
    const open = close === ")" ? "(" : "{";
    const s = this.src;
    let depth = 1;
    let i = from;
    while (i < s.length) {
      const c = s[i];
      if (c === "\\") i += 2;
      else if (c === "'") {
        const end = s.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError("unterminated single quote");
        i = end + 1;
      } else if (c === '"' || c === "`") {
        let j = i + 1;
        while (j < s.length && s[j] !== c) j += s[j] === "\\" ? 2 : 1;
        if (j >= s.length)
          throw new ShellSyntaxError(`unterminated ${c === '"' ? "double quote" : "backquote"}`);
        i = j + 1;
      } else {
        if (c === open) depth++;
        else if (c === close && --depth === 0) return i;
        i++;
      }
    }
    throw new ShellSyntaxError(`missing "${close}"`);
  }

  blanks(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c !== undefined && BLANK.has(c)) this.pos++;
      else if (c === "\\" && this.src[this.pos + 1] === "\n") this.pos += 2;
      else return;
    }
  }

  /** After a newline: the bodies of pending here-documents, up to each delimiter line. */
  readHeredocs(): void {
    for (const r of this.#heredocs) {
      const strip = r.op === "<<-";
      const lines: string[] = [];
      for (;;) {
        if (this.pos >= this.src.length) break;
        const nl = this.src.indexOf("\n", this.pos);
        const raw = this.src.slice(this.pos, nl < 0 ? this.src.length : nl);
        this.pos = nl < 0 ? this.src.length : nl + 1;
        const line = strip ? raw.replace(/^\t+/, "") : raw;
        if (line === r.target.text) break;
        lines.push(line);
      }
      r.heredoc = lines.join("\n");
    }
    this.#heredocs = [];
  }
}
