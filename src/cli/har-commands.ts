// `llm-capture export --har FILE` and `llm-capture import FILE.har` (the logic is in src/app/har-transfer.ts).
import { readFileSync } from 'node:fs';
import { exportHar, HarImportError, importHarInto, prepareHarImport, type PreparedHarImport } from '../app/har-transfer';
import { writePrivateFile } from '../app/private-file';
import type { SkippedEntry } from '../har';
import { parse, UsageError } from './args';
import { exportOtlp } from './otlp-export-command';
import { OTLP_FLAGS, otlpConfigFrom } from './otlp-options';
import { dateArg } from './search-command';
import { openStore, resolveDataDir, withStore } from './store-access';

export async function exportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    har: { type: 'string' }, 'data-dir': { type: 'string' }, session: { type: 'string', multiple: true }, since: { type: 'string' }, ...OTLP_FLAGS,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const otlp = otlpConfigFrom(values);
  if (otlp && values.har !== undefined) throw new UsageError('export writes --har FILE or sends --otlp, one at a time');
  if (otlp) {
    return exportOtlp({ dataDir: resolveDataDir(values['data-dir']), config: otlp, sessions: values.session ?? [],
      since: values.since !== undefined ? dateArg('--since', values.since) : undefined });
  }
  if (values.session || values.since !== undefined) throw new UsageError('--session and --since go with --otlp');
  if (!values.har) throw new UsageError('export needs --har FILE or --otlp');
  const har = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => exportHar(store));
  // Prompts, answers and tool output: readable by the owner only, like the store.
  await writePrivateFile(values.har, `${JSON.stringify(har, null, 2)}\n`);
  process.stdout.write(`wrote ${har.log.entries.length} entries to ${values.har}\n`);
}

export async function importCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('import needs exactly one HAR file');
  const file = positionals[0];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  // Everything is checked before the store is opened: a file that cannot be imported writes nothing.
  let prepared: PreparedHarImport;
  try {
    prepared = prepareHarImport(text);
  } catch (e) {
    if (!(e instanceof HarImportError)) throw e;
    reportSkipped(e.skipped);
    throw new Error(`cannot import ${file}: ${e.message}`);
  }
  reportSkipped(prepared.skipped);
  const dataDir = resolveDataDir(values['data-dir']);
  let count: number;
  try {
    count = await importHarInto(dataDir, prepared, (dir) => openStore(dir, 'writer'));
  } catch (e) {
    throw new Error(`cannot import ${file} into ${dataDir}: ${(e as Error).message}`);
  }
  process.stdout.write(prepared.skipped.length > 0
    ? `imported ${count} of ${prepared.total} entries from ${file} (${prepared.skipped.length} skipped)\n`
    : `imported ${count} entries from ${file}\n`);
}

function reportSkipped(skipped: readonly SkippedEntry[]): void {
  for (const s of skipped) process.stderr.write(`llm-capture: skipped entry ${s.index}: ${s.reason}\n`);
}
