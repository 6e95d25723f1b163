// HAR → records, for HAR written by us, Chrome DevTools, Firefox, HTTP Toolkit or mitmproxy. Their
// bodies are already decoded; binary ones come as base64 (`content.encoding`, or `_encoding` on
// postData). Our own `_llmCapture` block, when present, restores what HAR has no field for.
// Entries are checked first (har-validation.ts): a bad one is skipped with its reason.
import type { ConnectionRecord, ExchangeKind, ExchangeRecord, StoredBody, WsMessageRecord } from '../capture/records';
import type { HarEntry, LlmCaptureBodyMeta } from './har-types';
import { checkHarEntry, harEntries, HarFieldError } from './har-validation';

export interface ImportedHar {
  connections: ConnectionRecord[];
  exchanges: ExchangeRecord[];
  wsMessages: WsMessageRecord[];
}

export interface ImportIds {
  nextConnectionId: number;
  nextExchangeId: number;
}

/** An entry that was not imported: its index in `log.entries` and why (`request.url: expected a string, got number`). */
export interface SkippedEntry {
  index: number;
  reason: string;
}

export interface HarReading {
  imported: ImportedHar;
  /** Entries in the file. */
  total: number;
  skipped: SkippedEntry[];
}

const OPCODE_NAMES: Record<number, WsMessageRecord['opcode']> = { 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** Reads HAR text into records. Throws HarFormatError when the document is unusable; skips bad entries. */
export function readHar(text: string, ids: ImportIds): HarReading {
  const raw = harEntries(text);
  const entries: HarEntry[] = [];
  const skipped: SkippedEntry[] = [];
  for (const [index, value] of raw.entries()) {
    try {
      entries.push(checkHarEntry(value));
    } catch (e) {
      if (!(e instanceof HarFieldError)) throw e;
      skipped.push({ index, reason: e.message });
    }
  }
  return { imported: fromHar(entries, ids), total: raw.length, skipped };
}

/** Checked entries (checkHarEntry) → records. */
export function fromHar(entries: readonly HarEntry[], ids: ImportIds): ImportedHar {
  const out: ImportedHar = { connections: [], exchanges: [], wsMessages: [] };
  const connectionIds = new Map<string, number>();
  for (const entry of entries) {
    const url = safeUrl(entry.request.url);
    const startedAt = entry._llmCapture?.times.startedAt ?? Date.parse(entry.startedDateTime);
    const connKey = `${entry.connection ?? ''}|${url?.host ?? ''}`;
    let connectionId = connectionIds.get(connKey);
    if (connectionId === undefined) {
      connectionId = ids.nextConnectionId++;
      connectionIds.set(connKey, connectionId);
      const https = url?.protocol === 'https:' || url?.protocol === 'wss:';
      out.connections.push({
        id: connectionId, clientAddress: '', clientPort: 0, targetHost: url?.hostname ?? '',
        targetPort: Number(url?.port || (https ? 443 : 80)), mode: https ? 'intercept' : 'plain-http', openedAt: startedAt,
        ...(entry._llmCapture?.label ? { label: entry._llmCapture.label } : {}),
      });
    }
    const exchangeId = ids.nextExchangeId++;
    out.exchanges.push(toExchange(entry, exchangeId, connectionId, startedAt));
    for (const [seq, m] of (entry._webSocketMessages ?? []).entries()) {
      const binary = m.opcode === 2 || entry._llmCapture?.wsBase64?.includes(seq);
      const data = binary ? Buffer.from(m.data, 'base64') : Buffer.from(m.data, 'utf8');
      out.wsMessages.push({ exchangeId, seq, time: m.time * 1000, direction: m.type === 'send' ? 'client-to-server' : 'server-to-client',
        opcode: OPCODE_NAMES[m.opcode] ?? 'binary', data, size: data.length });
    }
  }
  return out;
}

function toExchange(entry: HarEntry, id: number, connectionId: number, startedAt: number): ExchangeRecord {
  const extra = entry._llmCapture;
  const t = entry.timings;
  // Our own export carries the exact times (some absent, e.g. an upgrade has no request end); others
  // have only timings, where -1 is unknown.
  const requestEndedAt = extra ? extra.times.requestEndedAt : t.send >= 0 ? startedAt + t.send : undefined;
  const responseStartedAt = extra ? extra.times.responseStartedAt : t.wait >= 0 ? (requestEndedAt ?? startedAt) + t.wait : undefined;
  // A record without an end is one still in progress; an imported one has ended, so it gets one.
  const lastKnown = responseStartedAt !== undefined && t.receive >= 0 ? responseStartedAt + t.receive : (responseStartedAt ?? requestEndedAt ?? startedAt);
  const endedAt = extra ? extra.times.endedAt : entry.time >= 0 ? startedAt + entry.time : lastKnown;
  const requestHeaders = entry.request.headers.map((h): [string, string] => [h.name, h.value]);
  const responseHeaders = entry.response.headers.map((h): [string, string] => [h.name, h.value]);
  const post = entry.request.postData;
  const content = entry.response.content;
  const errors = extra?.errors ?? (entry.response._error ? [entry.response._error] : []);
  return {
    id,
    connectionId,
    method: entry.request.method,
    url: entry.request.url,
    httpVersion: entry.request.httpVersion.replace(/^HTTP\//i, '') || '1.1',
    kind: extra?.kind ?? guessKind(entry),
    ...(entry.response.status ? { statusCode: entry.response.status, statusMessage: entry.response.statusText } : {}),
    requestHeaders,
    responseHeaders,
    ...(post?.text !== undefined ? { requestBody: body(post.text, post._encoding === 'base64', extra?.requestBody, entry.request.bodySize) } : {}),
    ...(content?.text !== undefined ? { responseBody: body(content.text, content.encoding === 'base64', extra?.responseBody, entry.response.bodySize) } : {}),
    startedAt,
    ...(requestEndedAt !== undefined ? { requestEndedAt } : {}),
    ...(responseStartedAt !== undefined ? { responseStartedAt } : {}),
    ...(endedAt !== undefined ? { endedAt } : {}),
    outcome: extra?.outcome ?? 'complete',
    errors,
  };
}

function body(text: string, base64: boolean, meta: LlmCaptureBodyMeta | undefined, bodySize: number): StoredBody {
  const data = base64 ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return {
    data,
    wireSize: meta?.wireSize ?? (bodySize >= 0 ? bodySize : data.length),
    encoding: meta?.encoding ?? '',
    decoded: meta?.decoded ?? true,
    truncated: meta?.truncated ?? false,
    ...(meta?.error ? { error: meta.error } : {}),
  };
}

function guessKind(entry: HarEntry): ExchangeKind {
  if (entry._resourceType === 'websocket' || entry._webSocketMessages) return 'websocket';
  if (/text\/event-stream/i.test(entry.response.content.mimeType)) return 'sse';
  return 'http';
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
