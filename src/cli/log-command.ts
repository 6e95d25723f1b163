// `llm-capture log`: the activity log, newest first — every exchange, plus tunnels and TLS
// handshakes that failed (which have no exchange to show them).
import type { ConnectionRecord } from '../capture';
import type { CaptureStore, ExchangeSummary } from '../store';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export const LOG_USAGE = 'llm-capture log [--data-dir DIR] [--json] [--limit N]';

export interface LogEntry {
  time: string;
  label?: string;
  method?: string;
  url: string;
  status?: number;
  kind: string;
  requestBytes?: number;
  responseBytes?: number;
  durationMs?: number;
  error?: string;
}

export async function logCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, not "${values.limit}"`);
  const entries = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => activity(store, limit));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return;
  }
  for (const e of entries) {
    const size = e.kind === 'tunnel' ? '' : ` ${bytes(e.requestBytes)}→${bytes(e.responseBytes)}`;
    const duration = e.durationMs === undefined ? '' : ` ${Math.round(e.durationMs)}ms`;
    process.stdout.write(`${e.time} ${e.label ?? '-'} ${e.method ?? 'CONNECT'} ${e.url} ${e.status ?? '-'} ${e.kind}${size}${duration}${e.error ? `  ERROR: ${e.error}` : ''}\n`);
  }
}

export function activity(store: CaptureStore, limit: number): LogEntry[] {
  const connections = new Map<number, ConnectionRecord | undefined>();
  const connection = (id: number) => {
    if (!connections.has(id)) connections.set(id, store.getConnection(id));
    return connections.get(id);
  };
  const entries: { at: number; entry: LogEntry }[] = [];
  for (const x of store.listExchanges({ limit }).items) entries.push({ at: x.startedAt, entry: fromExchange(x, connection(x.connectionId)) });
  for (const c of store.listConnections({ limit }).items) {
    if (c.mode === 'tunnel' || (c.tlsOutcome && c.tlsOutcome !== 'ok')) entries.push({ at: c.openedAt, entry: fromConnection(c) });
  }
  return entries.sort((a, b) => b.at - a.at).slice(0, limit).map((e) => e.entry);
}

function fromExchange(x: ExchangeSummary, c: ConnectionRecord | undefined): LogEntry {
  return {
    time: new Date(x.startedAt).toISOString(),
    ...(c?.label ? { label: c.label } : {}),
    method: x.method,
    url: x.url,
    ...(x.statusCode ? { status: x.statusCode } : {}),
    kind: x.kind,
    requestBytes: x.requestBody?.wireSize ?? 0,
    responseBytes: x.responseBody?.wireSize ?? 0,
    ...(x.endedAt ? { durationMs: x.endedAt - x.startedAt } : {}),
    ...(x.errors.length > 0 ? { error: x.errors.join('; ') } : {}),
  };
}

function fromConnection(c: ConnectionRecord): LogEntry {
  const error = c.tlsOutcome && c.tlsOutcome !== 'ok' ? (c.tlsDetail ?? c.tlsOutcome) : c.error;
  return {
    time: new Date(c.openedAt).toISOString(),
    ...(c.label ? { label: c.label } : {}),
    url: `${c.targetHost}:${c.targetPort}`,
    kind: c.mode === 'tunnel' ? 'tunnel' : 'tls',
    ...(c.bytesFromClient !== undefined ? { requestBytes: c.bytesFromClient } : {}),
    ...(c.bytesToClient !== undefined ? { responseBytes: c.bytesToClient } : {}),
    ...(c.closedAt ? { durationMs: c.closedAt - c.openedAt } : {}),
    ...(error ? { error } : {}),
  };
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  return n < 1024 ? `${n}B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)}KB` : `${(n / 1024 / 1024).toFixed(1)}MB`;
}
