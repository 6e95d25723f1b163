// Stored records → HAR 1.2. Bodies are the decoded (and already redacted) bytes, as text when
// they are valid UTF-8 and as base64 otherwise. WebSocket messages follow Chrome's convention.
import type { ConnectionRecord, ExchangeRecord, StoredBody, WsMessageRecord } from '../capture/records';
import type { Har, HarEntry, HarNameValue, HarWebSocketMessage } from './har-types';

export interface HarSource {
  exchange: ExchangeRecord;
  connection?: ConnectionRecord;
  wsMessages?: WsMessageRecord[];
}

const OPCODES: Record<WsMessageRecord['opcode'], number> = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

export function toHar(sources: Iterable<HarSource>, creatorVersion: string): Har {
  const entries: HarEntry[] = [];
  for (const source of sources) entries.push(toEntry(source));
  return { log: { version: '1.2', creator: { name: 'LLM Capture', version: creatorVersion }, entries } };
}

function toEntry({ exchange: x, connection, wsMessages }: HarSource): HarEntry {
  const requestHeaders = pairs(x.requestHeaders);
  const responseHeaders = pairs(x.responseHeaders ?? []);
  const reqBody = x.requestBody && x.requestBody.data.length > 0 ? bodyText(x.requestBody) : undefined;
  const resBody = x.responseBody ? bodyText(x.responseBody) : undefined;
  const end = x.endedAt ?? x.responseStartedAt ?? x.requestEndedAt ?? x.startedAt;
  const entry: HarEntry = {
    startedDateTime: new Date(x.startedAt).toISOString(),
    time: Math.max(0, end - x.startedAt),
    request: {
      method: x.method,
      url: x.url,
      httpVersion: `HTTP/${x.httpVersion}`,
      cookies: [],
      headers: requestHeaders,
      queryString: queryString(x.url),
      ...(reqBody ? { postData: { mimeType: header(x.requestHeaders, 'content-type') ?? 'application/octet-stream', text: reqBody.text, ...(reqBody.base64 ? { _encoding: 'base64' } : {}) } } : {}),
      headersSize: -1,
      bodySize: x.requestBody?.wireSize ?? 0,
    },
    response: {
      status: x.statusCode ?? 0,
      statusText: x.statusMessage ?? '',
      httpVersion: `HTTP/${x.httpVersion}`,
      cookies: [],
      headers: responseHeaders,
      content: {
        size: x.responseBody?.data.length ?? 0,
        ...(x.responseBody ? { compression: x.responseBody.data.length - x.responseBody.wireSize } : {}),
        mimeType: header(x.responseHeaders ?? [], 'content-type') ?? 'x-unknown',
        ...(resBody ? { text: resBody.text, ...(resBody.base64 ? { encoding: 'base64' } : {}) } : {}),
      },
      redirectURL: header(x.responseHeaders ?? [], 'location') ?? '',
      headersSize: -1,
      bodySize: x.responseBody?.wireSize ?? -1,
      ...(x.errors.length > 0 ? { _error: x.errors.join('; ') } : {}),
    },
    cache: {},
    timings: timings(x),
    connection: String(x.connectionId),
    _llmCapture: {
      exchangeId: x.id,
      connectionId: x.connectionId,
      kind: x.kind,
      ...(x.outcome ? { outcome: x.outcome } : {}),
      errors: x.errors,
      ...(connection?.label ? { label: connection.label } : {}),
      ...(x.requestBody ? { requestBody: bodyMeta(x.requestBody, reqBody?.base64) } : {}),
      ...(x.responseBody ? { responseBody: bodyMeta(x.responseBody, resBody?.base64) } : {}),
      times: { startedAt: x.startedAt, requestEndedAt: x.requestEndedAt, responseStartedAt: x.responseStartedAt, endedAt: x.endedAt },
    },
  };
  if (x.kind === 'websocket') {
    entry._resourceType = 'websocket';
    const messages: HarWebSocketMessage[] = [];
    const base64: number[] = [];
    for (const [i, m] of (wsMessages ?? []).entries()) {
      const text = m.opcode === 'binary' ? undefined : utf8(m.data);
      if (text === undefined) base64.push(i);
      messages.push({ type: m.direction === 'client-to-server' ? 'send' : 'receive', time: m.time / 1000, opcode: OPCODES[m.opcode], data: text ?? m.data.toString('base64') });
    }
    entry._webSocketMessages = messages;
    if (base64.length > 0 && entry._llmCapture) entry._llmCapture.wsBase64 = base64;
  }
  return entry;
}

function timings(x: ExchangeRecord): HarEntry['timings'] {
  const sent = x.requestEndedAt ?? x.startedAt;
  const first = x.responseStartedAt ?? sent;
  const end = x.endedAt ?? first;
  return { blocked: -1, dns: -1, connect: -1, ssl: -1, send: Math.max(0, sent - x.startedAt), wait: Math.max(0, first - sent), receive: Math.max(0, end - first) };
}

function bodyMeta(b: StoredBody, base64: boolean | undefined) {
  return { wireSize: b.wireSize, encoding: b.encoding, decoded: b.decoded, truncated: b.truncated, ...(b.error ? { error: b.error } : {}), ...(base64 ? { base64 } : {}) };
}

function bodyText(b: StoredBody): { text: string; base64: boolean } {
  const text = utf8(b.data);
  return text === undefined ? { text: b.data.toString('base64'), base64: true } : { text, base64: false };
}

/** The text when the bytes are valid UTF-8, else undefined. */
export function utf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

function pairs(headers: [string, string][]): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value }));
}

function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function queryString(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}
