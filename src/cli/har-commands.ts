// `llm-capture export --har FILE` and `llm-capture import FILE.har`.
// Import redacts like live capture does: a HAR saved by a browser or another proxy carries the
// user's keys in the clear, and secrets must never reach the store (ARCHITECTURE.md, decision 7).
import { readFileSync, writeFileSync } from 'node:fs';
import { Redactor, SseStream, type ExchangeRecord, type StoredBody } from '../capture';
import { fromHar, parseHar, toHar, type HarSource } from '../har';
import type { CaptureStore } from '../store';
import { allExchangeSummaries, wsMessagesOf } from '../app/store-reading';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export const EXPORT_USAGE = 'llm-capture export --har FILE [--data-dir DIR]';
export const IMPORT_USAGE = 'llm-capture import FILE.har [--data-dir DIR]';
const VERSION = '0.1.0';

export async function exportCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { har: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.har) throw new UsageError('export needs --har FILE');
  const har = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => toHar(allExchanges(store), VERSION));
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
  const har = parseHar(text);
  const count = await withStore(resolveDataDir(values['data-dir']), 'writer', async (store) => {
    const imported = fromHar(har, { nextConnectionId: 1, nextExchangeId: 1 });
    const redactor = new Redactor();
    for (const c of imported.connections) store.connectionUpdated(c);
    for (const x of imported.exchanges) {
      const redacted = redactExchange(x, redactor);
      store.exchangeUpdated(redacted);
      if (redacted.kind === 'sse' && redacted.responseBody) store.sseEvents(redacted.id, sseEvents(redacted));
    }
    for (const m of imported.wsMessages) {
      store.wsMessage(m.opcode === 'text' ? { ...m, data: redactor.body(m.data, undefined) } : m);
    }
    await store.flush();
    return imported.exchanges.length;
  });
  process.stdout.write(`imported ${count} entries from ${positionals[0]}\n`);
}

/** Every stored exchange, oldest first, with its connection and WebSocket messages. */
function* allExchanges(store: CaptureStore): Generator<HarSource> {
  for (const { id } of allExchangeSummaries(store)) {
    const exchange = store.getExchange(id);
    if (!exchange) continue;
    const wsMessages = exchange.kind === 'websocket' ? wsMessagesOf(store, id) : [];
    yield { exchange, connection: store.getConnection(exchange.connectionId), wsMessages };
  }
}

function redactExchange(x: ExchangeRecord, redactor: Redactor): ExchangeRecord {
  const contentType = (headers: [string, string][] | undefined) => headers?.find(([n]) => n.toLowerCase() === 'content-type')?.[1];
  const body = (b: StoredBody | undefined, ct: string | undefined) => (b ? { ...b, data: redactor.body(b.data, ct) } : undefined);
  return {
    ...x,
    url: redactor.url(x.url),
    requestHeaders: redactor.headers(x.requestHeaders.flat()),
    ...(x.responseHeaders ? { responseHeaders: redactor.headers(x.responseHeaders.flat()) } : {}),
    ...(x.requestBody ? { requestBody: body(x.requestBody, contentType(x.requestHeaders)) } : {}),
    ...(x.responseBody ? { responseBody: body(x.responseBody, contentType(x.responseHeaders)) } : {}),
  };
}

function sseEvents(x: ExchangeRecord) {
  const stream = new SseStream();
  const events = stream.push(x.responseBody?.data ?? Buffer.alloc(0));
  stream.end();
  const time = x.responseStartedAt ?? x.startedAt;
  return events.map((e, seq) => ({ seq, time, data: e.data, ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}) }));
}
