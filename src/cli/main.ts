/**
 * `subflash` command line: a thin layer over the library. Each command lives in its own file under
 * ./commands and registers itself on the program; none of them holds protocol or update logic.
 *
 * Start-up time matters (a gateway's scripts and a bench operator run it often): only the file of the
 * command being run is loaded (./commands/index.ts is a table that loads nothing), and `--version`
 * loads nothing but package.json. Help and unknown names get the command table as lightweight stubs.
 */
import { readFileSync } from "node:fs";

// `subflash devices | head`: the reader closed the pipe. C tools die of SIGPIPE there; Node would
// throw an unhandled EPIPE with a stack trace instead. The output was wanted no further: stop quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });

const args = process.argv.slice(2);
const version = packageVersion();

if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${version}\n`);
} else {
  await run();
}

async function run(): Promise<void> {
  const [{ Command }, { ExitCode }, { COMMANDS, findCommand }] = await Promise.all([
    import("commander"),
    import("./run.js"),
    import("./commands/index.js"),
  ]);
  const program = new Command("subflash")
    .description("Update the STM32 sub-modules of modular products through their ROM bootloaders.")
    .version(version)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false })
    // commander's own usage errors (unknown option, missing argument or value) exit 2 like every other
    // usage error of ours; --help and --version exit 0. Subcommands inherit this.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage));

  // `subflash <name> …` and `subflash help <name>` load that command's file only.
  const entry = findCommand(args[0] === "help" ? args[1] : args[0]);
  if (entry) {
    (await entry.load()).register(program);
  } else {
    // Help, no command or an unknown one: stubs carry the names and summaries for the listing and
    // for commander's "did you mean" suggestions; none of them ever runs.
    for (const command of COMMANDS)
      command.names.forEach((name, i) => program.command(name).description(command.summaries[i] ?? ""));
  }
  await program.parseAsync(process.argv);
}

function packageVersion(): string {
  // src/cli/main.ts in a checkout, dist/cli/main.js in a package: package.json is two levels up.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
