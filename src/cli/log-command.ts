// `llm-capture log`: the activity log, newest first — every exchange, plus tunnels and TLS
// handshakes that failed (which have no exchange to show them).
import { activity } from '../app/activity';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export async function logCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, not "${values.limit}"`);
  const entries = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => activity(store, limit));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(entries.map(({ key: _key, ...e }) => e), null, 2)}\n`);
    return;
  }
  for (const e of entries) {
    // A WebSocket has no bodies: its messages are what it carried.
    const size = e.kind === 'tunnel' ? ''
      : e.messages !== undefined ? ` ${e.messages} msgs ${bytes(e.messageBytesFromClient)}→${bytes(e.messageBytesToClient)}`
        : ` ${bytes(e.requestBytes)}→${bytes(e.responseBytes)}`;
    const duration = e.durationMs === undefined ? '' : ` ${e.durationMs}ms`;
    const status = `${e.status ?? '-'}${e.byProxy ? ' (proxy)' : ''}`;
    process.stdout.write(`${e.time} ${e.label ?? '-'} ${e.method ?? 'CONNECT'} ${e.url} ${status} ${e.kind}${size}${duration}${e.error ? `  ERROR: ${e.error}` : ''}\n`);
  }
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  return n < 1024 ? `${n}B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)}KB` : `${(n / 1024 / 1024).toFixed(1)}MB`;
}
