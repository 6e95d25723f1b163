// Reading an ExchangeRecord: headers, bodies and status, with every problem turned into a
// sentence for `LlmCall.errors` instead of an exception.
import type { ExchangeRecord, StoredBody } from '../capture/records';
import { isRecord, MAX_JSON_DEPTH, parseJson, preview, TOO_DEEP, type JsonRecord } from './json-value';
import type { DissectInput } from './dissector';
import type { ApiKind, LlmCall, Provider, Transport } from './llm-call';

/** Case-insensitive header access over the stored [name, value] pairs. */
export class HeaderMap {
  private readonly map = new Map<string, string>();

  constructor(pairs: readonly (readonly [string, string])[] | undefined) {
    // A repeated header keeps its first value: identity headers are never legitimately repeated.
    for (const [name, value] of pairs ?? []) {
      const key = name.toLowerCase();
      if (!this.map.has(key)) this.map.set(key, value);
    }
  }

  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase());
  }
}

/** Hostname (no port) and path (no query) of a URL; tolerant of a relative URL. */
export function urlParts(url: string): { host: string; path: string } {
  try {
    const u = new URL(url, 'http://unknown.invalid');
    return { host: u.hostname.toLowerCase(), path: u.pathname };
  } catch {
    return { host: '', path: url.split('?')[0] ?? url };
  }
}

export function bodyText(body: StoredBody | undefined): string {
  return body ? body.data.toString('utf8') : '';
}

/** Problems with how a body was stored, which make anything decoded from it suspect. */
export function bodyProblems(which: 'request' | 'response', body: StoredBody | undefined): string[] {
  if (!body) return [];
  const out: string[] = [];
  if (!body.decoded && body.encoding !== '') {
    out.push(`The ${which} body is still ${body.encoding}-encoded (decoding failed${body.error ? `: ${body.error}` : ''}), so it cannot be read.`);
  } else if (body.error) {
    out.push(`The ${which} body has a problem: ${body.error}`);
  }
  if (body.truncated) out.push(`The ${which} body was cut at the size limit; what follows is decoded from a part of it.`);
  return out;
}

/** `note`: a problem worth showing although the body could be read (it nested too deeply). */
export type JsonBody = { ok: true; value: JsonRecord; note?: string } | { ok: false; error: string };

/** Records a problem that did not stop the call from being read. */
export function addNote(call: LlmCall, note: string): void {
  (call.notes ??= []).push(note);
}

/** A body (named `what` in messages) as a JSON object, or a clear reason why it is not one. */
export function readJsonObject(text: string, what: string): JsonBody {
  if (text.trim() === '') return { ok: false, error: `The ${what} is empty.` };
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, error: `The ${what} is not valid JSON (${parsed.error}); it starts with: ${preview(text)}` };
  if (!isRecord(parsed.value)) return { ok: false, error: `The ${what} is JSON but not an object; it starts with: ${preview(text)}` };
  if (!parsed.cut) return { ok: true, value: parsed.value };
  return { ok: true, value: parsed.value, note: `The ${what} nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels; what lies deeper reads "${TOO_DEEP}" here (the raw body is whole).` };
}

function responseContentType(exchange: ExchangeRecord): string {
  return new HeaderMap(exchange.responseHeaders).get('content-type')?.toLowerCase() ?? '';
}

export function isEventStream(exchange: ExchangeRecord): boolean {
  return exchange.kind === 'sse' || responseContentType(exchange).includes('text/event-stream');
}

/** The skeleton every dissector fills in: ids, URL, status and times from the exchange. */
export function newCall(exchange: ExchangeRecord, api: ApiKind, provider: Provider, transport: Transport): LlmCall {
  const call: LlmCall = {
    id: String(exchange.id),
    exchangeId: exchange.id,
    api,
    provider,
    client: 'generic',
    transport,
    url: exchange.url,
    identity: {},
    tools: [],
    input: [],
    output: [],
    startedAt: exchange.startedAt,
    errors: [],
  };
  if (exchange.statusCode !== undefined) call.status = exchange.statusCode;
  if (exchange.endedAt !== undefined) call.endedAt = exchange.endedAt;
  return call;
}

/** Exchange-level failures (client abort, upstream error) are the call's failures too. */
export function exchangeProblems(exchange: ExchangeRecord): string[] {
  const out = exchange.errors.map((e) => `Capture: ${e}`);
  if (exchange.outcome && exchange.outcome !== 'complete') out.push(`The exchange did not complete (${exchange.outcome}).`);
  return out;
}

/**
 * An HTTP error status with the provider's error message when the body carries one. All four APIs
 * put it in `error.message` (Anthropic and OpenAI also `error.type`, Gemini `error.status`).
 */
/**
 * The start every HTTP dissector shares: the call (SSE when the answer streams), the exchange's
 * and the request body's problems recorded, and the request parsed when it is a JSON object.
 */
export function beginHttpCall(input: DissectInput, api: ApiKind, provider: Provider): { call: LlmCall; request?: JsonRecord; streamed: boolean } {
  const { exchange } = input;
  const streamed = isEventStream(exchange) || (input.sseEvents?.length ?? 0) > 0;
  const call = newCall(exchange, api, provider, streamed ? 'sse' : 'http');
  call.errors.push(...exchangeProblems(exchange), ...bodyProblems('request', exchange.requestBody));
  const parsed = readJsonObject(bodyText(exchange.requestBody), 'request body');
  if (!parsed.ok) call.errors.push(parsed.error);
  else if (parsed.note) addNote(call, parsed.note);
  return { call, streamed, ...(parsed.ok ? { request: parsed.value } : {}) };
}

/**
 * The text of a non-streamed response, once its problems are on the call: body problems, an
 * HTTP error status, or an empty body. Undefined when there is nothing to dissect.
 */
export function responseTextToDissect(call: LlmCall, exchange: ExchangeRecord): string | undefined {
  const text = bodyText(exchange.responseBody);
  call.errors.push(...bodyProblems('response', exchange.responseBody));
  const http = httpErrorMessage(exchange.statusCode, text);
  if (http) {
    call.errors.push(http);
    return undefined;
  }
  if (text.trim() === '') {
    // Nothing yet while the exchange is live; an empty answer once it has ended is a problem.
    if (exchange.endedAt !== undefined) call.errors.push('The response body is empty.');
    return undefined;
  }
  return text;
}

/**
 * A non-streamed response parsed as a JSON object, with the first-token time set; problems go on
 * the call and give undefined.
 */
export function responseJsonToDissect(call: LlmCall, exchange: ExchangeRecord): { text: string; body: JsonRecord } | undefined {
  const text = responseTextToDissect(call, exchange);
  if (text === undefined) return undefined;
  const parsed = readJsonObject(text, 'response body');
  if (!parsed.ok) {
    call.errors.push(parsed.error);
    return undefined;
  }
  if (parsed.note) addNote(call, parsed.note);
  if (exchange.responseStartedAt !== undefined) call.firstTokenAt = exchange.responseStartedAt;
  return { text, body: parsed.value };
}

export function httpErrorMessage(status: number | undefined, body: string): string | undefined {
  if (status === undefined || status < 400) return undefined;
  const parsed = parseJson(body);
  const root = parsed.ok ? (Array.isArray(parsed.value) ? parsed.value[0] : parsed.value) : undefined;
  const detail = isRecord(root) ? errorDetail(root) : undefined;
  if (detail) return `HTTP ${status}: ${detail}`;
  return body.trim() === '' ? `HTTP ${status} with an empty body.` : `HTTP ${status}: ${preview(body, 200)}`;
}

/** "type: message" from an error object ({error:{…}} or the error itself), if it has a message. */
export function errorDetail(value: JsonRecord): string | undefined {
  const error = isRecord(value.error) ? value.error : value;
  const message = typeof error.message === 'string' ? error.message : undefined;
  // `type: "error"` on the event itself says nothing; the specific code or type is the useful part.
  const kind = [error.code, error.type, error.status].find((k) => typeof k === 'string' && k !== '' && k !== 'error');
  if (message === undefined) return typeof kind === 'string' ? kind : undefined;
  return typeof kind === 'string' ? `${kind}: ${message}` : message;
}

/** Adds a name to a call's list of unknown request fields or stream events, once. */
export function noteUnknown(call: LlmCall, list: 'requestFields' | 'events', name: string): void {
  call.unknown ??= {};
  const names = (call.unknown[list] ??= []);
  if (!names.includes(name)) names.push(name);
}

/** Lists top-level request fields outside `known`, so that format drift is visible. */
export function noteUnknownFields(call: LlmCall, body: JsonRecord, known: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) if (!known.has(key)) noteUnknown(call, 'requestFields', key);
}
