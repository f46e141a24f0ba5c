import type { Command } from "commander";

/** `gimo completion bash|zsh|fish`: the completion script, generated from the command tree. */
export function registerCompletionCommand(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script")
    .argument("<shell>", "bash, zsh or fish")
    .addHelpText(
      "after",
      `
Install:
  bash  gimo completion bash > ~/.local/share/bash-completion/completions/gimo
  zsh   gimo completion zsh > "\${fpath[1]}/_gimo"
  fish  gimo completion fish > ~/.config/fish/completions/gimo.fish`,
    )
    .action(async (shell: string) => {
      const { completionScript } = await import("../completion.ts");
      process.stdout.write(completionScript(program, shell));
    });
}
