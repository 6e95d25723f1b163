// Incremental server-sent events parsing of a captured response body.
// Parsing follows the WHATWG event-stream rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream):
// lines end in LF, CRLF or CR; several `data:` lines join with LF; `:` starts a comment; `event`,
// `id` and `retry` fields; one leading BOM is dropped. eventsource-parser implements those rules;
// this wrapper decodes bytes as UTF-8 across chunk boundaries, hands back each event as soon as
// its blank line arrives, and, unlike a browser, writes down what was wrong with the stream,
// because a capture tool must show a bad stream rather than silently drop parts of it.
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';
import type { SseEventRecord } from './records';

export interface SseEvent {
  /** The `event` field, when the block had one (a browser would default it to "message"). */
  event?: string;
  /** The `id` field of this block, when it had one (not carried over from earlier events). */
  id?: string;
  data: string;
  /** A valid `retry` (reconnection time in ms) seen since the previous event. */
  retry?: number;
}

/** The record of event `seq`, which arrived at `time`; `data` in place of its own (redacted, say). */
export function sseEventRecord(e: SseEvent, seq: number, time: number, data = e.data): SseEventRecord {
  const r: SseEventRecord = { seq, time, data };
  if (e.event !== undefined) r.event = e.event;
  if (e.id !== undefined) r.id = e.id;
  if (e.retry !== undefined) r.retry = e.retry;
  return r;
}

export interface SseStreamOptions {
  /** Characters a single pending line or event may hold before parsing gives up. */
  maxBufferChars?: number;
  /** Errors written down before the rest are only counted. */
  maxErrors?: number;
}

const PREVIEW_CHARS = 120;

export class SseStream {
  /** What was wrong with the stream, in order (bounded; see `maxErrors`). */
  readonly errors: string[] = [];
  private readonly parser: EventSourceParser;
  /**
   * Not TextDecoder: Node 22's decodes through two temporary buffers, four and two times the size of
   * its input (Node 24's through one, twice its size), taken from malloc and given back on every call,
   * and whole answers of megabytes pass through here; those churned glibc's heaps (docs/decisions.md,
   * decision 98). StringDecoder builds the string in V8's heap, and keeps a BOM, so that
   * eventsource-parser drops exactly one (TextDecoder dropped another).
   */
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxErrors: number;
  private pending: SseEvent[] = [];
  private retry: number | undefined;
  private suppressedErrors = 0;
  private lastChar = '';
  private sawText = false;
  private reportedBadUtf8 = false;
  private ending = false;
  private broken = false;
  private ended = false;
  /** Text after the last line end, not yet given to the parser. */
  private partial: string[] = [];
  private partialChars = 0;
  private readonly maxBufferChars: number | undefined;

  constructor(options: SseStreamOptions = {}) {
    this.maxErrors = options.maxErrors ?? 20;
    this.maxBufferChars = options.maxBufferChars;
    this.parser = createParser({
      maxBufferSize: options.maxBufferChars,
      onEvent: (message) => {
        if (this.ending) {
          // WHATWG: at end of stream, an event without its closing blank line is discarded.
          this.addError(`SSE stream ended inside an event (no blank line after it); the event was not dispatched: ${preview(message.data)}`);
          return;
        }
        const event: SseEvent = { data: message.data };
        if (message.event !== undefined) event.event = message.event;
        if (message.id !== undefined) event.id = message.id;
        if (this.retry !== undefined) event.retry = this.retry;
        this.retry = undefined;
        this.pending.push(event);
      },
      onRetry: (ms) => { this.retry = ms; },
      onError: (error: ParseError) => {
        // After passing maxBufferSize the parser refuses all further input.
        if (error.type === 'max-buffer-size-exceeded') this.broken = true;
        this.addError(describeParseError(error));
      },
    });
  }

  /** Feeds the next bytes (or text) and returns the events they completed. Never throws. */
  push(chunk: Buffer | string): SseEvent[] {
    if (this.ended) return [];
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    return this.take();
  }

  /** Ends the stream. Returns nothing: by the WHATWG rules an unfinished event is dropped (and noted in `errors`). */
  end(): void {
    if (this.ended) return;
    this.feed(this.decoder.end());
    this.flushPartial();
    if (!this.broken && this.sawText) {
      if (this.lastChar !== '\n' && this.lastChar !== '\r') {
        this.addError('SSE stream does not end with a newline; its last line was incomplete');
      }
      // Two line ends finish a pending line and then a pending event, which onEvent discards.
      this.ending = true;
      this.safeFeed('\n\n');
    }
    this.ended = true;
    this.pending = [];
    if (this.suppressedErrors > 0) this.errors.push(`… and ${this.suppressedErrors} more SSE errors`);
  }

  private feed(text: string): void {
    if (text === '' || this.broken) return;
    this.sawText = true;
    this.lastChar = text[text.length - 1];
    if (!this.reportedBadUtf8 && text.includes('\uFFFD')) {
      // U+FFFD comes from bytes that are not UTF-8 (or, rarely, from the text itself).
      this.reportedBadUtf8 = true;
      this.addError('SSE stream holds bytes that are not valid UTF-8 (read as U+FFFD)');
    }
    // Hand the parser whole lines only: it silently drops a partial line that cannot become a
    // field, and we want every bad line to reach onError.
    const lastEnd = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (lastEnd === -1) {
      this.partial.push(text);
      this.partialChars += text.length;
      if (this.maxBufferChars !== undefined && this.partialChars > this.maxBufferChars) {
        this.broken = true;
        this.partial = [];
        this.addError(`SSE parsing stopped: a line is longer than ${this.maxBufferChars} characters`);
      }
      return;
    }
    this.partial.push(text.slice(0, lastEnd + 1));
    const lines = this.partial.join('');
    this.partial = [text.slice(lastEnd + 1)];
    this.partialChars = this.partial[0].length;
    this.safeFeed(lines);
  }

  private flushPartial(): void {
    const rest = this.partial.join('');
    this.partial = [];
    this.partialChars = 0;
    if (rest !== '') this.safeFeed(rest);
  }

  private safeFeed(text: string): void {
    if (this.broken) return;
    try {
      this.parser.feed(text);
    } catch (e) {
      // The parser stops for good after passing maxBufferSize; so do we.
      this.broken = true;
      this.addError(`SSE parsing stopped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private take(): SseEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  private addError(message: string): void {
    if (this.errors.length < this.maxErrors) this.errors.push(message);
    else this.suppressedErrors++;
  }
}

function describeParseError(error: ParseError): string {
  switch (error.type) {
    case 'max-buffer-size-exceeded': return `SSE parsing stopped: ${error.message}`;
    case 'invalid-retry': return `SSE: invalid retry value ${preview(error.value ?? '')}`;
    default: return `SSE: unknown field ${preview(error.field ?? '')} in line ${preview(error.line ?? '')}`;
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text);
}
