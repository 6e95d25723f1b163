// One LLM call's raw exchange as the conversation view's "Raw calls" tab shows it: what was on the
// wire, already redacted by capture, with bodies decoded and cut to a size a webview can hold.
// Built by src/app/raw-call-view.ts, posted to the webview on request (raw data is big).

/** A body as shown: decoded text (JSON re-indented), or a hex dump of the start of binary data. */
export interface RawBody {
  text: string;
  format: 'json' | 'text' | 'binary';
  /** Bytes kept by capture (decoded, unless `decoded` is false). */
  size: number;
  /** Bytes on the wire, before content decoding. */
  wireSize: number;
  /** The content-encoding on the wire ('' for none). */
  encoding: string;
  decoded: boolean;
  /** `text` shows only the start: the body is larger than the view's limit. */
  clipped: boolean;
  /** Capture itself cut the body at its size limit. */
  storedTruncated: boolean;
}

export interface RawSseEvent {
  seq: number;
  /** Milliseconds since the exchange started. */
  offsetMs: number;
  event?: string;
  id?: string;
  /** The SSE `retry` field (reconnection time in ms) that came with this event. */
  retry?: number;
  data: string;
  clipped: boolean;
}

export interface RawWsMessage {
  seq: number;
  offsetMs: number;
  direction: 'client-to-server' | 'server-to-client';
  opcode: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** The payload as text, or a hex dump for binary frames. */
  text: string;
  size: number;
  clipped: boolean;
  /** The frame falls within the selected call's span (a socket carries many calls). */
  inCall: boolean;
}

/** A problem recorded beside the capture, and where it was found. */
export interface RawError {
  where: 'exchange' | 'request body' | 'response body' | 'dissector';
  text: string;
}

export interface RawCallView {
  callId: string;
  exchangeId: number;
  /** For a call on a WebSocket (`<exchangeId>:<n>`): n. */
  wsCallIndex?: number;
  kind: 'http' | 'sse' | 'websocket' | 'tunnel';
  method: string;
  url: string;
  httpVersion: string;
  status?: number;
  statusMessage?: string;
  outcome?: string;
  startedAt: number;
  /** Milliseconds since `startedAt`. */
  timings: { requestEndMs?: number; firstByteMs?: number; endMs?: number };
  /** Redacted by capture, in wire order and case. */
  requestHeaders: [string, string][];
  responseHeaders: [string, string][];
  requestBody?: RawBody;
  responseBody?: RawBody;
  sseEvents?: RawSseEvent[];
  wsMessages?: RawWsMessage[];
  /** Events or messages beyond the view's limit, left out. */
  omitted?: number;
  errors: RawError[];
}

/** Bytes of one body shown at most; the rest is noted. */
export const RAW_BODY_LIMIT = 256 * 1024;
/** Characters of one SSE event or WebSocket message shown at most. */
export const RAW_ITEM_LIMIT = 64 * 1024;
/** SSE events or WebSocket messages listed at most. */
export const RAW_ITEM_COUNT = 5000;

/** 1,234 bytes / 12.3 KB / 4.5 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n.toLocaleString('en-US')} byte${n === 1 ? '' : 's'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** One line about a body: its size, format and encoding, and whether the view or capture cut it. */
export function bodyNote(b: RawBody): string {
  const parts = [formatBytes(b.size), b.format === 'json' ? 'JSON, re-indented' : b.format];
  if (b.encoding !== '') parts.push(b.decoded ? `${b.encoding}-decoded from ${formatBytes(b.wireSize)}` : `${b.encoding}, not decoded`);
  if (b.clipped) parts.push(`truncated, ${b.size.toLocaleString('en-US')} bytes total`);
  if (b.storedTruncated) parts.push('cut by capture at its size limit');
  return parts.join(' · ');
}

/** What an SSE event's head shows beside its name: "id e3", "retry: 3000 ms". */
export function sseEventNotes(e: RawSseEvent): string[] {
  const notes: string[] = [];
  if (e.id !== undefined) notes.push(`id ${e.id}`);
  if (e.retry !== undefined) notes.push(`retry: ${e.retry} ms`);
  return notes;
}

/** An SSE event as copied: its fields in SSE form (the data as shown, re-indented if JSON). */
export function sseEventText(e: RawSseEvent): string {
  const fields: string[] = [];
  if (e.event) fields.push(`event: ${e.event}`);
  if (e.id !== undefined) fields.push(`id: ${e.id}`);
  if (e.retry !== undefined) fields.push(`retry: ${e.retry}`);
  fields.push(`data: ${e.data}`);
  return fields.join('\n');
}

/** "request sent +12 ms · first byte +340 ms · ended +2.1 s". */
export function timingLine(t: RawCallView['timings']): string {
  const ms = (n: number) => (n < 1000 ? `+${Math.round(n)} ms` : `+${(n / 1000).toFixed(1)} s`);
  const parts: string[] = [];
  if (t.requestEndMs !== undefined) parts.push(`request sent ${ms(t.requestEndMs)}`);
  if (t.firstByteMs !== undefined) parts.push(`first byte ${ms(t.firstByteMs)}`);
  parts.push(t.endMs !== undefined ? `ended ${ms(t.endMs)}` : 'not ended');
  return parts.join(' · ');
}
