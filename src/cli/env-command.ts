// `llm-capture env`: prints the variables for a shell, for the proxy running on this data directory.
import { join } from 'node:path';
import { shellEnvironment } from '../proxy';
import { parse, parsePort, UsageError } from './args';
import { defaultDataDir } from './data-dir';
import { readNote } from '../app/serving-note';
import { formatEnvironment } from '../app/shell-format';

export { formatEnvironment };

export function envCommand(args: string[]): void {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, port: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const port = parsePort(values.port);
  const proxyUrl = port !== undefined ? `http://127.0.0.1:${port}` : readNote(dataDir)?.proxyUrl;
  if (!proxyUrl) throw new Error(`no proxy is running for ${dataDir}; start one with "llm-capture proxy", or give --port`);
  process.stdout.write(formatEnvironment(shellEnvironment({
    proxyUrl, caCertPath: join(dataDir, 'ca.pem'), caBundlePath: join(dataDir, 'ca-bundle.pem'),
  })));
}
