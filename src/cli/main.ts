/**
 * `subflash` command line: a thin layer over the library. Each command lives in its own file under
 * ./commands and registers itself on the program; none of them holds protocol or update logic.
 */
import { Command } from "commander";
import { commands } from "./commands/index.js";

const program = new Command("subflash")
  .description("Update the STM32 sub-modules of modular products through their ROM bootloaders.")
  .version("0.1.0")
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

for (const register of commands) register(program);

await program.parseAsync(process.argv);
