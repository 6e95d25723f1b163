// Rebuilds an Anthropic Messages response from its SSE events: blocks by `index`, text, thinking
// and signatures joined from their deltas, and tool arguments joined from `input_json_delta`
// fragments exactly as sent (the client resends `JSON.parse` of that text in the next request).
import { anthropicBlock } from './anthropic-request';
import { toolCall } from './content-blocks';
import { errorDetail, noteUnknown } from './exchange-reader';
import { asNumber, asRecord, asString, isRecord, own, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, LlmCall, Usage } from './llm-call';
import type { StreamEvent } from './stream-events';

interface OpenBlock {
  block: ContentBlock;
  /** Joined `partial_json` of a tool call; undefined until the first fragment. */
  json?: string;
  /** Deltas of a block type we do not know, kept with it for display. */
  unknownDeltas?: JsonRecord[];
}

type Handler = (state: StreamState, data: JsonRecord, event: StreamEvent) => void;

interface StreamState {
  call: LlmCall;
  blocks: Map<number, OpenBlock>;
}

/** How each delta type extends its block. Returns false when the delta does not fit the block. */
const DELTAS: Partial<Record<string, (open: OpenBlock, delta: JsonRecord) => boolean>> = {
  text_delta: (open, d) => appendText(open, 'text', asString(d.text)),
  thinking_delta: (open, d) => appendText(open, 'thinking', asString(d.thinking)),
  signature_delta: (open, d) => {
    if (open.block.type !== 'thinking') return false;
    open.block.signature = (open.block.signature ?? '') + (asString(d.signature) ?? '');
    return true;
  },
  input_json_delta: (open, d) => {
    if (open.block.type !== 'tool-call') return false;
    open.json = (open.json ?? '') + (asString(d.partial_json) ?? '');
    return true;
  },
  citations_delta: (open, d) => {
    if (open.block.type !== 'text') return false;
    (open.block.citations ??= []).push(d.citation);
    return true;
  },
};

function appendText(open: OpenBlock, type: 'text' | 'thinking', text: string | undefined): boolean {
  if (open.block.type !== type) return false;
  open.block.text += text ?? '';
  return true;
}

const HANDLERS: Partial<Record<string, Handler>> = {
  message_start: (s, d) => {
    const message = asRecord(d.message) ?? {};
    s.call.model ??= asString(message.model);
    s.call.responseModel ??= asString(message.model);
    mergeUsage(s.call, message.usage);
  },
  content_block_start: (s, d) => {
    const index = asNumber(d.index) ?? s.blocks.size;
    s.blocks.set(index, { block: anthropicBlock(d.content_block) });
  },
  content_block_delta: (s, d, event) => {
    s.call.firstTokenAt ??= event.time;
    const delta = asRecord(d.delta) ?? {};
    const type = asString(delta.type) ?? '';
    const open = s.blocks.get(asNumber(d.index) ?? -1);
    if (!open) {
      s.call.errors.push(`A ${type} delta arrived for block ${String(d.index)}, which was never started.`);
      return;
    }
    if (open.block.type === 'unknown') {
      (open.unknownDeltas ??= []).push(delta);
      return;
    }
    const apply = own(DELTAS, type);
    if (apply?.(open, delta)) return;
    noteUnknown(s.call, 'events', `content_block_delta:${type}`);
    s.call.errors.push(apply
      ? `A ${type} delta arrived for a ${open.block.type} block (index ${String(d.index)}); it was ignored.`
      : `Unknown delta type "${type}" in block ${String(d.index)}; kept in the list of unknown events.`);
  },
  content_block_stop: () => undefined,
  message_delta: (s, d) => {
    const delta = asRecord(d.delta) ?? {};
    const stop = asString(delta.stop_reason);
    if (stop !== undefined) s.call.stopReason = stop;
    mergeUsage(s.call, d.usage);
  },
  message_stop: () => undefined,
  ping: () => undefined,
  error: (s, d) => {
    s.call.errors.push(`The stream reported an error: ${errorDetail(d) ?? textOf(d)}`);
  },
};

export function readAnthropicStream(call: LlmCall, events: readonly StreamEvent[]): void {
  const state: StreamState = { call, blocks: new Map() };
  for (const event of events) {
    const data = event.data;
    if (!data) continue;
    const handler = own(HANDLERS, event.name);
    if (handler) {
      handler(state, data, event);
    } else {
      noteUnknown(call, 'events', event.name || '(unnamed)');
      call.errors.push(`Unknown stream event "${event.name}"; kept in the list of unknown events.`);
    }
  }
  call.output = [...state.blocks.entries()].sort(([a], [b]) => a - b).map(([, open]) => finish(open));
  // While the exchange is still open (a live preview) the missing end is expected, not a problem.
  if (call.endedAt !== undefined && events.length > 0 && !events.some((e) => e.name === 'message_stop' || e.name === 'error')) {
    call.errors.push('The stream ended without message_stop: the response is incomplete.');
  }
}

function finish(open: OpenBlock): ContentBlock {
  const block = open.block;
  if (block.type === 'tool-call' && open.json !== undefined && open.json !== '') {
    return toolCall(block.callId, block.name, open.json, block.kind, block.id);
  }
  if (block.type === 'unknown' && open.unknownDeltas) {
    return { ...block, raw: { block: block.raw, deltas: open.unknownDeltas } };
  }
  return block;
}

/** Usage arrives in message_start and again, updated, in message_delta; later values win. */
export function mergeUsage(call: LlmCall, raw: unknown): void {
  if (!isRecord(raw)) return;
  const usage: Usage = call.usage ?? {};
  const set = (key: keyof Usage, value: unknown) => {
    const n = asNumber(value);
    if (n !== undefined) usage[key] = n;
  };
  set('inputTokens', raw.input_tokens);
  set('outputTokens', raw.output_tokens);
  set('cacheReadTokens', raw.cache_read_input_tokens);
  set('cacheWriteTokens', raw.cache_creation_input_tokens);
  const details = asRecord(raw.output_tokens_details);
  if (details) set('reasoningTokens', details.thinking_tokens ?? details.reasoning_tokens);
  if (Object.keys(usage).length > 0) call.usage = usage;
}
