// The headless entry point: the same core as the extension, for terminals outside VS Code and for tests.
import { UsageError } from './args';
import { demoCommand } from './demo-command';
import { ENV_USAGE, envCommand } from './env-command';
import { EXPORT_USAGE, exportCommand, IMPORT_USAGE, importCommand } from './har-commands';
import { LOG_USAGE, logCommand } from './log-command';
import { PROXY_USAGE, proxyCommand } from './proxy-command';
import { SESSIONS_USAGE, sessionsCommand, SHOW_USAGE, showCommand } from './sessions-commands';

const USAGE = `usage:
  ${PROXY_USAGE}
  ${ENV_USAGE}
  ${LOG_USAGE}
  ${SESSIONS_USAGE}
  ${SHOW_USAGE}
  ${EXPORT_USAGE}
  ${IMPORT_USAGE}`;

const COMMANDS: Record<string, (args: string[]) => Promise<void> | void> = {
  proxy: proxyCommand,
  env: envCommand,
  log: logCommand,
  sessions: sessionsCommand,
  show: showCommand,
  export: exportCommand,
  import: importCommand,
  demo: demoCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"`);
    await run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`llm-capture: ${e.message} (see "llm-capture --help")\n`);
      return 2;
    }
    process.stderr.write(`llm-capture: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
