// The headless entry point: the same core as the extension, for terminals outside VS Code and for tests.
import { UsageError } from './args';
import { ENV_USAGE, envCommand } from './env-command';
import { PROXY_USAGE, proxyCommand } from './proxy-command';

const USAGE = `usage:
  ${PROXY_USAGE}
  ${ENV_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'proxy':
        await proxyCommand(rest);
        return 0;
      case 'env':
        envCommand(rest);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
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
