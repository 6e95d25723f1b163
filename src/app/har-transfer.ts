// HAR export and import over a store, shared by the CLI and the extension.
// Import redacts like live capture does: a HAR saved by a browser or another proxy carries the
// user's keys in the clear, and secrets must never reach the store (docs/decisions.md, decision 19).
// Import checks the whole file first (prepareHarImport) and opens the store only when something
// can be imported: a file that cannot be read as HAR writes nothing, a bad entry is skipped with
// its reason, and a file with no good entry fails. If writing fails anyway, importHarInto removes
// the store it created, and never touches the files of a store that was there before.
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redactor, SseStream, type ConnectionRecord, type ExchangeRecord, type SseEventRecord, type StoredBody, type WsMessageRecord } from '../capture';
import { HarFormatError, readHar, toHar, type HarSource, type SkippedEntry } from '../har';
import type { CaptureStore } from '../store';
import { isCaptureFile } from './capture-files';
import { allExchangeSummaries, wsMessagesOf } from './store-reading';

export const HAR_CREATOR_VERSION = '0.1.0';

/** The whole store as a HAR document (an object; JSON.stringify it to write). */
export function exportHar(store: CaptureStore, version = HAR_CREATOR_VERSION): ReturnType<typeof toHar> {
  return toHar(allExchanges(store), version);
}

/** Why a HAR file cannot be imported; `skipped` holds the entries' reasons when none was importable. */
export class HarImportError extends Error {
  constructor(message: string, readonly skipped: readonly SkippedEntry[] = []) {
    super(message);
  }
}

/** What an import will write: records already redacted, nothing stored yet. */
export interface PreparedHarImport {
  connections: ConnectionRecord[];
  exchanges: { record: ExchangeRecord; sseEvents: SseEventRecord[] }[];
  wsMessages: WsMessageRecord[];
  /** Entries in the file; `exchanges.length` of them are imported. */
  total: number;
  skipped: SkippedEntry[];
}

/** Reads, checks and redacts HAR text. Throws HarImportError when nothing of it can be imported. */
export function prepareHarImport(text: string): PreparedHarImport {
  let reading: ReturnType<typeof readHar>;
  try {
    reading = readHar(text, { nextConnectionId: 1, nextExchangeId: 1 });
  } catch (e) {
    if (e instanceof HarFormatError) throw new HarImportError(e.message);
    throw e;
  }
  const { imported, total, skipped } = reading;
  if (imported.exchanges.length === 0) {
    throw new HarImportError(total === 0 ? 'the file has no entries' : `none of its ${total} entries can be imported`, skipped);
  }
  const redactor = new Redactor();
  const importedAt = Date.now();
  const exchanges = imported.exchanges.map((x) => {
    const record = { ...redactExchange(x, redactor), importedAt };
    return { record, sseEvents: record.kind === 'sse' && record.responseBody ? sseEvents(record) : [] };
  });
  const wsMessages = imported.wsMessages.map((m) => (m.opcode === 'text' ? { ...m, data: redactor.body(m.data, undefined) } : m));
  return { connections: imported.connections, exchanges, wsMessages, total, skipped };
}

/** Writes a prepared import through a writer store. Returns the number of entries imported. */
export async function writeHarImport(store: CaptureStore, prepared: PreparedHarImport): Promise<number> {
  // The store logs a failed write and goes on (live capture must not stop); an import must not claim success.
  const droppedBefore = store.stats().droppedWrites;
  for (const c of prepared.connections) store.connectionUpdated(c);
  for (const { record, sseEvents } of prepared.exchanges) {
    store.exchangeUpdated(record);
    if (sseEvents.length > 0) store.sseEvents(record.id, sseEvents);
  }
  for (const m of prepared.wsMessages) store.wsMessage(m);
  await store.flush();
  const dropped = store.stats().droppedWrites - droppedBefore;
  if (dropped > 0) throw new Error(`the store did not take ${dropped} of the imported records (see the messages above)`);
  return prepared.exchanges.length;
}

/**
 * Imports into the store of `dataDir`, opened by `open` (the writer) and closed afterwards. When
 * the import fails and there was no store before, the files and directories it created are removed.
 */
export async function importHarInto(dataDir: string, prepared: PreparedHarImport, open: (dataDir: string) => Promise<CaptureStore>): Promise<number> {
  const createdDir = await fsp.mkdir(dataDir, { recursive: true });
  const before = new Set(await fsp.readdir(dataDir));
  const fresh = ![...before].some(isStoreFile);
  try {
    const store = await open(dataDir);
    try {
      return await writeHarImport(store, prepared);
    } finally {
      await store.close();
    }
  } catch (e) {
    if (fresh) await removeCreated(dataDir, before, createdDir);
    throw e;
  }
}

function isStoreFile(name: string): boolean {
  return isCaptureFile(name) || name === 'writer.lock';
}

async function removeCreated(dataDir: string, before: Set<string>, createdDir: string | undefined): Promise<void> {
  const now = await fsp.readdir(dataDir).catch((): string[] => []);
  if (await lockedByAnother(dataDir)) return;
  for (const name of now) {
    if (!before.has(name) && isStoreFile(name)) await fsp.rm(join(dataDir, name), { force: true });
  }
  if (createdDir === undefined) return;
  // Up to the first directory mkdir made; rmdir fails on a directory that is not empty, and stops.
  for (let dir = dataDir; ; dir = dirname(dir)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return;
    }
    if (dir === createdDir || dirname(dir) === dir) return;
  }
}

/** Whether another process holds the writer lock now (ours is released on close, or left by a close that failed). */
async function lockedByAnother(dataDir: string): Promise<boolean> {
  let text: string;
  try {
    text = await fsp.readFile(join(dataDir, 'writer.lock'), 'utf8');
  } catch {
    return false;
  }
  try {
    return (JSON.parse(text) as { pid?: unknown }).pid !== process.pid;
  } catch {
    return true;
  }
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

function sseEvents(x: ExchangeRecord): SseEventRecord[] {
  const stream = new SseStream();
  const events = stream.push(x.responseBody?.data ?? Buffer.alloc(0));
  stream.end();
  const time = x.responseStartedAt ?? x.startedAt;
  return events.map((e, seq) => ({ seq, time, data: e.data, ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}) }));
}
