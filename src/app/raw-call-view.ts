// The store → RawCallView builder behind the conversation view's "Raw calls" tab: one LLM call's
// exchange with headers, decoded bodies (JSON re-indented), SSE events and WebSocket messages in
// order, and every problem recorded beside the capture. Pure over the store (no vscode).
import type { ExchangeRecord, SseEventRecord, StoredBody, WsMessageRecord } from '../capture';
import { dissectExchange, type LlmCall } from '../llm';
import type { CaptureStore } from '../store';
import {
  RAW_BODY_LIMIT, RAW_ITEM_COUNT, RAW_ITEM_LIMIT,
  type RawBody, type RawCallView, type RawError, type RawSseEvent, type RawWsMessage,
} from '../../src/shared/raw-call';
import { readAllPages, wsMessagesOf } from './store-reading';

/** Bodies up to this size are parsed to be re-indented (then cut); larger ones are cut as they are. */
const PRETTY_MAX = 4 * RAW_BODY_LIMIT;
/** Bytes of a binary payload shown as a hex dump. */
const HEX_BYTES = 4096;

/** `<exchangeId>` or `<exchangeId>:<n>`, as LlmCall.id has them. */
export function parseCallId(callId: string): { exchangeId: number; wsIndex?: number } | undefined {
  const m = /^(\d{1,15})(?::(\d{1,9}))?$/.exec(callId);
  if (!m) return undefined;
  return m[2] === undefined ? { exchangeId: Number(m[1]) } : { exchangeId: Number(m[1]), wsIndex: Number(m[2]) };
}

/** The raw view of a call, or a sentence saying why there is none. */
export function buildRawCallView(store: CaptureStore, callId: string): RawCallView | { error: string } {
  const id = parseCallId(callId);
  if (!id) return { error: `"${callId}" is not a call id.` };
  const exchange = store.getExchange(id.exchangeId);
  if (!exchange) return { error: `Exchange ${id.exchangeId} is no longer in the store (retention may have removed it).` };
  const sse = exchange.kind === 'sse' ? readAllPages((after) => store.listSseEvents(exchange.id, { limit: 1000, after })) : undefined;
  const ws = exchange.kind === 'websocket' ? wsMessagesOf(store, exchange.id) : undefined;
  // Dissected again for the call's own errors and, on a socket, its span among the frames.
  let call: LlmCall | undefined;
  const errors: RawError[] = exchange.errors.map((text) => ({ where: 'exchange', text }));
  try {
    call = dissectExchange({ exchange, sseEvents: sse, wsMessages: ws }).find((c) => c.id === callId);
  } catch (e) {
    errors.push({ where: 'dissector', text: (e as Error).message });
  }
  for (const text of [...(call?.errors ?? []), ...(call?.notes ?? [])]) errors.push({ where: 'dissector', text });
  const view: RawCallView = {
    callId, exchangeId: exchange.id, kind: exchange.kind, method: exchange.method, url: exchange.url, httpVersion: exchange.httpVersion,
    startedAt: exchange.startedAt, timings: timings(exchange),
    requestHeaders: exchange.requestHeaders, responseHeaders: exchange.responseHeaders ?? [], errors,
  };
  if (id.wsIndex !== undefined) view.wsCallIndex = id.wsIndex;
  if (exchange.statusCode !== undefined) view.status = exchange.statusCode;
  if (exchange.statusMessage) view.statusMessage = exchange.statusMessage;
  if (exchange.outcome) view.outcome = exchange.outcome;
  for (const [which, body] of [['request', exchange.requestBody], ['response', exchange.responseBody]] as const) {
    if (!body) continue;
    view[which === 'request' ? 'requestBody' : 'responseBody'] = rawBody(body);
    for (const text of bodyErrors(body)) errors.push({ where: `${which} body`, text });
  }
  let omitted = 0;
  if (sse) {
    view.sseEvents = sse.slice(0, RAW_ITEM_COUNT).map((e) => sseEvent(e, exchange.startedAt));
    omitted += Math.max(0, sse.length - RAW_ITEM_COUNT);
  }
  if (ws) {
    const inCall = (m: WsMessageRecord) => call !== undefined && m.time >= call.startedAt && m.time <= (call.endedAt ?? Infinity);
    view.wsMessages = ws.slice(0, RAW_ITEM_COUNT).map((m) => wsMessage(m, exchange.startedAt, inCall(m)));
    omitted += Math.max(0, ws.length - RAW_ITEM_COUNT);
  }
  if (omitted > 0) view.omitted = omitted;
  return view;
}

function timings(e: ExchangeRecord): RawCallView['timings'] {
  const t: RawCallView['timings'] = {};
  if (e.requestEndedAt !== undefined) t.requestEndMs = e.requestEndedAt - e.startedAt;
  if (e.responseStartedAt !== undefined) t.firstByteMs = e.responseStartedAt - e.startedAt;
  if (e.endedAt !== undefined) t.endMs = e.endedAt - e.startedAt;
  return t;
}

function bodyErrors(body: StoredBody): string[] {
  const out: string[] = [];
  if (body.error) out.push(body.error);
  if (!body.decoded && body.encoding !== '') out.push(`Still ${body.encoding}-encoded: decoding failed, the bytes are shown as captured.`);
  if (body.truncated) out.push(`Capture cut the body at its size limit: only the first ${body.data.length.toLocaleString('en-US')} bytes were kept.`);
  return out;
}

export function rawBody(body: StoredBody): RawBody {
  const data = body.data;
  const base = {
    size: data.length, wireSize: body.wireSize, encoding: body.encoding, decoded: body.decoded, storedTruncated: body.truncated,
  };
  if ((!body.decoded && body.encoding !== '') || isBinary(data)) {
    return { ...base, format: 'binary', text: hexDump(data.subarray(0, HEX_BYTES)), clipped: data.length > HEX_BYTES };
  }
  if (data.length <= PRETTY_MAX) {
    const text = data.toString('utf8');
    const pretty = prettyJson(text);
    const shown = pretty ?? text;
    return { ...base, format: pretty === undefined ? 'text' : 'json', ...clip(shown, RAW_BODY_LIMIT) };
  }
  return { ...base, format: 'text', text: data.subarray(0, RAW_BODY_LIMIT).toString('utf8'), clipped: true };
}

function sseEvent(e: SseEventRecord, start: number): RawSseEvent {
  const { text, clipped } = clip(prettyJson(e.data) ?? e.data, RAW_ITEM_LIMIT);
  const out: RawSseEvent = { seq: e.seq, offsetMs: e.time - start, data: text, clipped };
  if (e.event !== undefined) out.event = e.event;
  if (e.id !== undefined) out.id = e.id;
  if (e.retry !== undefined) out.retry = e.retry;
  return out;
}

function wsMessage(m: WsMessageRecord, start: number, inCall: boolean): RawWsMessage {
  const binary = m.opcode === 'binary' || (m.opcode !== 'close' && isBinary(m.data));
  const shown = binary
    ? { text: hexDump(m.data.subarray(0, HEX_BYTES)), clipped: m.data.length > HEX_BYTES }
    : clip(m.data.length <= PRETTY_MAX ? prettyJson(m.data.toString('utf8')) ?? m.data.toString('utf8') : m.data.subarray(0, RAW_ITEM_LIMIT).toString('utf8'), RAW_ITEM_LIMIT);
  return { seq: m.seq, offsetMs: m.time - start, direction: m.direction, opcode: m.opcode, size: m.size, inCall, ...shown, clipped: shown.clipped || m.data.length > PRETTY_MAX };
}

function clip(text: string, max: number): { text: string; clipped: boolean } {
  return text.length <= max ? { text, clipped: false } : { text: text.slice(0, max), clipped: true };
}

/** JSON re-indented, or undefined when the text is not a JSON object or array. */
function prettyJson(text: string): string | undefined {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return undefined;
  }
}

/** NUL bytes or invalid UTF-8 near the start: not text. */
function isBinary(data: Buffer): boolean {
  const head = data.subarray(0, 8192);
  if (head.includes(0)) return true;
  try {
    // A multi-byte character cut at the end of the sample is not a sign of binary data.
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < data.length ? head.subarray(0, head.length - 4) : head);
    return false;
  } catch {
    return true;
  }
}

function hexDump(data: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < data.length; at += 16) {
    const row = data.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}
