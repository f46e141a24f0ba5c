import type { Command } from "commander";
import { CliError } from "./exit-codes.ts";

/**
 * Shell completion scripts written from the commander tree, so a new command or option completes
 * without anyone editing a script: commands and subcommands by position, then that command's
 * options.
 */
interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
  description: string;
}

function nodes(command: Command, path: string[] = []): Node[] {
  const options = command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  const here: Node = {
    path,
    subcommands: command.commands.map((c) => c.name()),
    options: [...options, "--help"],
    description: command.description(),
  };
  return [here, ...command.commands.flatMap((c) => nodes(c, [...path, c.name()]))];
}

export function completionScript(program: Command, shell: string): string {
  const all = nodes(program);
  if (shell === "bash") return bash(all);
  if (shell === "zsh") return `#compdef gimo\nautoload -U +X bashcompinit && bashcompinit\n${bash(all)}`;
  if (shell === "fish") return fish(all);
  throw new CliError("usage", `no completion for ${shell}: bash, zsh or fish`);
}

function bash(all: Node[]): string {
  const cases = all
    .map((n) => `    "${n.path.join(" ")}") words="${[...n.subcommands, ...n.options].join(" ")}" ;;`)
    .join("\n");
  return `# gimo completion for bash (gimo completion bash)
_gimo() {
  local cur path="" w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case " $(_gimo_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_gimo_words "$path")" -- "$cur"))
}
_gimo_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o default -F _gimo gimo
`;
}

function fish(all: Node[]): string {
  const lines = ["# gimo completion for fish (gimo completion fish)", "complete -c gimo -f"];
  for (const n of all) {
    const cond =
      n.path.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const sub of n.subcommands) lines.push(`complete -c gimo -n '${cond}' -a '${sub}'`);
    for (const opt of n.options.filter((o) => o.startsWith("--")))
      lines.push(`complete -c gimo -n '${cond}' -l '${opt.slice(2)}'`);
  }
  return `${lines.join("\n")}\n`;
}
