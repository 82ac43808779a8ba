/**
 * `subflash` command line: a thin layer over the library. Each command lives in its own file under
 * ./commands and registers itself on the program; none of them holds protocol or update logic.
 */
import { Command } from "commander";
import { ExitCode } from "./run.js";

type Register = (program: Command) => void;

const program = new Command("subflash")
  .description("Update the STM32 sub-modules of modular products through their ROM bootloaders.")
  .version("0.1.0")
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false })
  // commander's own usage errors (unknown option, missing argument or value) exit 2 like every other
  // usage error of ours; --help and --version exit 0. Subcommands inherit this.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage));

// Startup time: loading every command pulls in the gateway, MQTT and release tooling (~0.4 s through
// tsx), which a bench command such as `subflash flash` never uses. So when the first argument names
// a command file that registers exactly that command, only that file is loaded; anything else
// (help, an unknown name, an option first) loads them all, as before.
const only = await loadOnly(process.argv[2]);
if (only) only(program);
else for (const register of (await import("./commands/index.js")).commands) register(program);

await program.parseAsync(process.argv);

async function loadOnly(name: string | undefined): Promise<Register | undefined> {
  if (name === undefined || !/^[a-z][a-z0-9]*$/.test(name) || name === "index") return undefined;
  let register: unknown;
  try {
    ({ register } = (await import(`./commands/${name}.js`)) as { register?: unknown });
  } catch {
    return undefined;
  }
  if (typeof register !== "function") return undefined;
  const probe = new Command();
  (register as Register)(probe);
  return probe.commands.length === 1 && probe.commands[0]!.name() === name
    ? (register as Register)
    : undefined;
}
