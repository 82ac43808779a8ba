import type { Command } from "commander";

// Placeholder until the command lands; registered so `subflash --help` shows the whole surface.
export function register(program: Command): void {
  program
    .command("manifest")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("subflash manifest: not implemented yet\n");
      process.exitCode = 1;
    });
}
