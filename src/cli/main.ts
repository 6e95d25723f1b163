// The headless entry point: the same core as the extension, for terminals outside VS Code and for tests.
import { UsageError } from './args';
import { demoCommand } from './demo-command';
import { envCommand } from './env-command';
import { exportCommand, importCommand } from './har-commands';
import { commandHelp, topLevelHelp, versionLine } from './help';
import { logCommand } from './log-command';
import { unsupportedNode } from './node-version';
import { exitAfterOutput, exitQuietlyWhenReaderCloses } from './output';
import { proxyCommand } from './proxy-command';
import { searchCommand } from './search-command';
import { sessionsCommand, showCommand } from './sessions-commands';

const COMMANDS: Record<string, (args: string[]) => Promise<void> | void> = {
  proxy: proxyCommand,
  env: envCommand,
  log: logCommand,
  sessions: sessionsCommand,
  show: showCommand,
  search: searchCommand,
  export: exportCommand,
  import: importCommand,
  demo: demoCommand,
};

/** `-h` or `--help` among a command's arguments (not after `--`, where it would be a value). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

function helpOf(command: string): string {
  const text = commandHelp(command);
  if (text === undefined) throw new UsageError(`unknown command "${command}"`);
  return text;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const tooOld = unsupportedNode(process.versions.node);
  if (tooOld) {
    process.stderr.write(`${tooOld}\n`);
    return 1;
  }
  try {
    if (command === undefined) {
      process.stderr.write(topLevelHelp());
      return 2;
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      if (rest.length > 1) throw new UsageError(`help takes one command, not "${rest.join(' ')}"`);
      process.stdout.write(rest.length === 0 ? topLevelHelp() : helpOf(rest[0]));
      return 0;
    }
    if (command === '-V' || command === '--version') {
      process.stdout.write(versionLine());
      return 0;
    }
    const help = commandHelp(command);
    if (help !== undefined && asksForHelp(rest)) {
      process.stdout.write(help);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    await run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      const see = command !== undefined && COMMANDS[command] !== undefined && commandHelp(command) !== undefined
        ? `llm-capture ${command} --help` : 'llm-capture --help';
      process.stderr.write(`llm-capture: ${e.message} (see "${see}")\n`);
      return 2;
    }
    process.stderr.write(`llm-capture: ${(e as Error).message}\n`);
    return 1;
  }
}

exitQuietlyWhenReaderCloses();
main(process.argv.slice(2)).then(exitAfterOutput);
