// The events of a streamed response, as parsed JSON. Capture normally hands us the SSE events it
// split while the response streamed; when it did not (an older record, a test, a body captured
// without live parsing) the stored body is split here by the same WHATWG rules.
import { createParser } from 'eventsource-parser';
import type { ExchangeRecord, SseEventRecord } from '../capture/records';
import type { DissectInput } from './dissector';
import { bodyText, httpErrorMessage } from './exchange-reader';
import type { LlmCall } from './llm-call';
import { isRecord, parseJson, preview, type JsonRecord } from './json-value';

export interface StreamEvent {
  time: number;
  /** The JSON `type` when there is one, else the SSE `event` field, else '' (data-only streams). */
  name: string;
  /** The parsed `data:` payload; undefined for `[DONE]` and for data that is not a JSON object. */
  data?: JsonRecord;
  /** True for the OpenAI-style `data: [DONE]` terminator. */
  done?: boolean;
}

export interface StreamRead {
  events: StreamEvent[];
  errors: string[];
}

/**
 * A streamed call's events, with their problems noted on the call. No events at all usually means
 * the answer was an error body instead (most gateways send errors as JSON, not as events): noted too.
 */
export function streamEventsOf(call: LlmCall, input: DissectInput): StreamEvent[] {
  const { events, errors } = readSseEvents(input.exchange, input.sseEvents);
  call.errors.push(...errors);
  if (events.length === 0) {
    const http = httpErrorMessage(input.exchange.statusCode, bodyText(input.exchange.responseBody));
    if (http) call.errors.push(http);
  }
  return events;
}

/** Parses each SSE event's data as JSON. Bad events become errors, never exceptions. */
export function readSseEvents(exchange: ExchangeRecord, sseEvents: readonly SseEventRecord[] | undefined): StreamRead {
  const records = sseEvents && sseEvents.length > 0 ? sseEvents : splitBody(exchange);
  const events: StreamEvent[] = [];
  const errors: string[] = [];
  for (const record of [...records].sort((a, b) => a.seq - b.seq)) {
    const text = record.data.trim();
    if (text === '[DONE]') {
      events.push({ time: record.time, name: '[DONE]', done: true });
      continue;
    }
    if (text === '') continue; // keep-alive events with an empty data field carry nothing
    const parsed = parseJson(text);
    if (!parsed.ok || !isRecord(parsed.value)) {
      const why = parsed.ok ? 'is JSON but not an object' : `is not valid JSON (${parsed.error})`;
      errors.push(`Stream event ${record.seq}${record.event ? ` (${record.event})` : ''} ${why}: ${preview(text)}`);
      continue;
    }
    const type = typeof parsed.value.type === 'string' ? parsed.value.type : undefined;
    events.push({ time: record.time, name: type ?? record.event ?? '', data: parsed.value });
  }
  return { events, errors };
}

/** Splits a stored SSE body into event records (comment lines such as `: OPENROUTER PROCESSING` drop out). */
function splitBody(exchange: ExchangeRecord): SseEventRecord[] {
  const out: SseEventRecord[] = [];
  const time = exchange.responseStartedAt ?? exchange.startedAt;
  const parser = createParser({
    onEvent: (message) => {
      const record: SseEventRecord = { seq: out.length, time, data: message.data };
      if (message.event !== undefined) record.event = message.event;
      out.push(record);
    },
  });
  parser.feed(bodyText(exchange.responseBody));
  // An event still open at the end of the body is dispatched by feeding its blank line: a capture
  // cut short should show what arrived rather than drop the last event silently.
  parser.feed('\n\n');
  return out;
}
