// `llm-capture export --har FILE` and `llm-capture import FILE.har` (the logic is in src/app/har-transfer.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { exportHar, importHar } from '../app/har-transfer';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export const EXPORT_USAGE = 'llm-capture export --har FILE [--data-dir DIR]';
export const IMPORT_USAGE = 'llm-capture import FILE.har [--data-dir DIR]';

export async function exportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { har: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.har) throw new UsageError('export needs --har FILE');
  const har = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => exportHar(store));
  writeFileSync(values.har, `${JSON.stringify(har, null, 2)}\n`);
  process.stdout.write(`wrote ${har.log.entries.length} entries to ${values.har}\n`);
}

export async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('import needs exactly one HAR file');
  let text: string;
  try {
    text = readFileSync(positionals[0], 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${positionals[0]}: ${(e as Error).message}`);
  }
  const count = await withStore(resolveDataDir(values['data-dir']), 'writer', (store) => importHar(store, text));
  process.stdout.write(`imported ${count} entries from ${positionals[0]}\n`);
}
