// Rebuilds one OpenAI Responses response from its events, shared by SSE and WebSocket (the
// WebSocket frames are the same objects as the SSE `data:` payloads). Items are kept by
// `output_index`; text, arguments, custom tool input and reasoning summaries are joined from their
// deltas, and a final item from `output_item.done` (or `response.completed`) wins when it exists,
// because some servers send text only there. A disagreement between the two is reported.
import { outputItemBlocks } from './openai-responses-items';
import { errorDetail, noteUnknown } from './exchange-reader';
import { asArray, asId, asNumber, asRecord, asString, isRecord, own, recordsOf, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, LlmCall, Usage } from './llm-call';
import type { StreamEvent } from './stream-events';

interface ItemState {
  item: JsonRecord;
  done: boolean;
  /** Joined deltas, by field: text per content index, arguments, custom input, summary per index. */
  text: Map<number, string>;
  args?: string;
  input?: string;
  summary: Map<number, string>;
  /** Citations announced by `output_text.annotation.added`, per content index. */
  annotations: Map<number, unknown[]>;
}

type Handler = (s: ResponsesStream, d: JsonRecord, e: StreamEvent) => void;

const appendMap = (map: Map<number, string>, key: unknown, delta: unknown) => {
  const k = asNumber(key) ?? 0;
  map.set(k, (map.get(k) ?? '') + (asString(delta) ?? ''));
};

const HANDLERS: Partial<Record<string, Handler>> = {
  'response.created': (s, d) => s.noteResponse(d.response),
  'response.in_progress': (s, d) => s.noteResponse(d.response),
  'response.queued': (s, d) => s.noteResponse(d.response),
  'response.output_item.added': (s, d) => s.addItem(d),
  'response.output_item.done': (s, d) => s.finishItem(d),
  'response.content_part.added': () => undefined,
  'response.content_part.done': () => undefined,
  'response.output_text.delta': (s, d, e) => s.delta(d, e, (st) => appendMap(st.text, d.content_index, d.delta)),
  'response.output_text.done': (s, d) => s.fill(d, 'text', d.content_index, d.text),
  'response.output_text.annotation.added': (s, d) => s.annotate(d),
  'response.refusal.delta': (s, d, e) => s.delta(d, e, (st) => appendMap(st.text, d.content_index, d.delta)),
  'response.refusal.done': (s, d) => s.fill(d, 'text', d.content_index, d.refusal),
  'response.function_call_arguments.delta': (s, d, e) => s.delta(d, e, (st) => { st.args = (st.args ?? '') + (asString(d.delta) ?? ''); }),
  'response.function_call_arguments.done': (s, d) => s.checkFinal(d, 'args', d.arguments),
  'response.custom_tool_call_input.delta': (s, d, e) => s.delta(d, e, (st) => { st.input = (st.input ?? '') + (asString(d.delta) ?? ''); }),
  'response.custom_tool_call_input.done': (s, d) => s.checkFinal(d, 'input', d.input),
  'response.reasoning_summary_part.added': () => undefined,
  'response.reasoning_summary_part.done': () => undefined,
  'response.reasoning_summary_text.delta': (s, d, e) => s.delta(d, e, (st) => appendMap(st.summary, d.summary_index, d.delta)),
  'response.reasoning_summary_text.done': (s, d) => s.fill(d, 'summary', d.summary_index, d.text),
  'response.reasoning_text.delta': (s, d, e) => s.delta(d, e, (st) => appendMap(st.summary, d.content_index, d.delta)),
  'response.reasoning_text.done': (s, d) => s.fill(d, 'summary', d.content_index, d.text),
  'response.completed': (s, d) => s.terminate(d, undefined),
  'response.incomplete': (s, d) => s.terminate(d, undefined),
  'response.failed': (s, d) => s.terminate(d, 'The response failed'),
  error: (s, d) => s.terminate(d, 'The server sent an error event'),
};

/** Progress events of built-in tools (searching, in_progress, …): their result arrives as an item. */
const PROGRESS_PREFIXES = [
  'response.web_search_call.', 'response.file_search_call.', 'response.code_interpreter_call', 'response.image_generation_call.',
  'response.mcp_', 'response.audio', 'response.computer_call', 'response.local_shell_call', 'keepalive',
];

export class ResponsesStream {
  private readonly items = new Map<number, ItemState>();
  private readonly indexById = new Map<string, number>();
  private final?: JsonRecord;
  terminal = false;

  constructor(private readonly call: LlmCall) {}

  push(event: StreamEvent): void {
    if (!event.data) return;
    const handler = own(HANDLERS, event.name);
    if (handler) handler(this, event.data, event);
    else if (!PROGRESS_PREFIXES.some((p) => event.name.startsWith(p))) {
      noteUnknown(this.call, 'events', event.name || '(unnamed)');
      this.call.errors.push(`Unknown stream event "${event.name}"; kept in the list of unknown events.`);
    }
  }

  noteResponse(raw: unknown): void {
    const response = asRecord(raw);
    if (!response) return;
    const id = asId(response.id);
    if (id !== undefined) this.call.identity.responseId = id;
    this.call.model ??= asString(response.model);
    this.call.responseModel ??= asString(response.model);
  }

  addItem(d: JsonRecord): void {
    const item = asRecord(d.item) ?? {};
    const index = asNumber(d.output_index) ?? this.items.size;
    this.items.set(index, { item, done: false, text: new Map(), summary: new Map(), annotations: new Map() });
    const id = asId(item.id);
    if (id !== undefined) this.indexById.set(id, index);
  }

  finishItem(d: JsonRecord): void {
    const item = asRecord(d.item) ?? {};
    let state = this.stateFor(d);
    if (!state) {
      this.addItem(d);
      state = this.stateFor(d);
    }
    if (!state) return;
    state.item = item;
    state.done = true;
    this.checkFinal(d, 'args', item.arguments);
    this.checkFinal(d, 'input', item.input);
  }

  delta(d: JsonRecord, e: StreamEvent, apply: (state: ItemState) => void): void {
    this.call.firstTokenAt ??= e.time;
    const state = this.stateFor(d);
    if (state) apply(state);
    else this.call.errors.push(`A ${e.name} event arrived for an item that was never added (output_index ${String(d.output_index)}).`);
  }

  annotate(d: JsonRecord): void {
    const state = this.stateFor(d);
    const key = asNumber(d.content_index) ?? 0;
    if (state && d.annotation !== undefined) state.annotations.set(key, [...(state.annotations.get(key) ?? []), d.annotation]);
  }

  /** A `.done` text fills a part that had no deltas (some servers send only the final text). */
  fill(d: JsonRecord, field: 'text' | 'summary', index: unknown, final: unknown): void {
    const state = this.stateFor(d);
    const key = asNumber(index) ?? 0;
    if (state && typeof final === 'string' && !state[field].has(key)) state[field].set(key, final);
  }

  /**
   * Deltas joined must equal the final text a `.done` event or item repeats; say so when not.
   * With no deltas at all, the final text stands in for them.
   */
  checkFinal(d: JsonRecord, field: 'args' | 'input', final: unknown): void {
    const state = this.stateFor(d);
    if (!state || typeof final !== 'string') return;
    const joined = state[field];
    if (joined === undefined) {
      state[field] = final;
      return;
    }
    if (joined === final) return;
    const what = field === 'args' ? 'arguments' : 'custom tool input';
    this.call.errors.push(`The ${what} joined from deltas differ from the final ${what} of item ${asId(state?.item.id) ?? '?'}; the final one is shown.`);
  }

  terminate(d: JsonRecord, failure: string | undefined): void {
    this.terminal = true;
    const response = asRecord(d.response);
    if (response) {
      this.noteResponse(response);
      this.final = response;
      readUsage(this.call, response.usage);
      const incomplete = asRecord(response.incomplete_details);
      const status = asString(incomplete?.reason) ?? asString(response.status);
      if (status !== undefined) this.call.stopReason = status;
    }
    if (failure) {
      const error = asRecord(response?.error) ?? d;
      this.call.errors.push(`${failure}: ${errorDetail(error) ?? textOf(error)}`);
    }
  }

  private stateFor(d: JsonRecord): ItemState | undefined {
    const index = asNumber(d.output_index) ?? this.indexById.get(asId(d.item_id) ?? asId(asRecord(d.item)?.id) ?? '');
    return index === undefined ? undefined : this.items.get(index);
  }

  /** The output blocks: streamed items, or the final response's `output[]` when nothing was streamed. */
  output(): ContentBlock[] {
    if (this.items.size === 0) return (asArray(this.final?.output) ?? []).flatMap(outputItemBlocks);
    return [...this.items.entries()].sort(([a], [b]) => a - b).flatMap(([, state]) => outputItemBlocks(withDeltas(state)));
  }
}

/** An item as `output_item.added` announced it, completed with what its deltas carried. */
function withDeltas(state: ItemState): JsonRecord {
  if (state.done) return state.item;
  const item = { ...state.item };
  if (state.args !== undefined) item.arguments = state.args;
  if (state.input !== undefined) item.input = state.input;
  if (state.text.size > 0) {
    item.content = [...state.text.entries()].sort(([a], [b]) => a - b)
      .map(([index, text]) => ({ type: 'output_text', text, annotations: state.annotations.get(index) ?? [] }));
  }
  if (state.summary.size > 0) {
    item.summary = [...state.summary.entries()].sort(([a], [b]) => a - b).map(([, text]) => ({ type: 'summary_text', text }));
  }
  return item;
}

export function readUsage(call: LlmCall, raw: unknown): void {
  if (!isRecord(raw)) return;
  const usage: Usage = {};
  const input = asNumber(raw.input_tokens);
  if (input !== undefined) usage.inputTokens = input;
  const output = asNumber(raw.output_tokens);
  if (output !== undefined) usage.outputTokens = output;
  const cached = asNumber(asRecord(raw.input_tokens_details)?.cached_tokens);
  if (cached !== undefined) usage.cacheReadTokens = cached;
  const reasoning = asNumber(asRecord(raw.output_tokens_details)?.reasoning_tokens);
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  call.usage = usage;
}

/** Used by the non-streamed path: a whole response object. */
export function readWholeResponse(call: LlmCall, response: JsonRecord): void {
  const stream = new ResponsesStream(call);
  stream.terminate({ response }, response.status === 'failed' ? 'The response failed' : undefined);
  call.output = stream.output();
  if (recordsOf(response.output).length === 0 && response.status === undefined) {
    call.errors.push('The response has no `output` array and no `status`.');
  }
}
