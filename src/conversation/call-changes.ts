// What a call's request changed against the previous call of its thread: model, system prompt,
// tools, options, cache breakpoints and the history (decision 68). The history is compared in the
// assembler's segments, where a shared prefix is the same entries: a request that re-sends the
// previous history unchanged shares its segment chain, one that edits, drops or compacts it forks
// or starts a new root. So a Codex frame that chains `previous_response_id` and sends only the new
// items compares exactly like a Claude request that re-sends everything.
import type { CacheMarker, ContentBlock, LlmCall, ToolDefinition } from '../llm/llm-call';
import type { Item } from './history';
import type { CallRecord, Segment } from './segment';
import { detached, sameField } from './spilled-text';
import { diffText } from './text-diff';
import type { CallChanges, NewMessage, TextChange } from './types';

/** A conversation call with where the assembler placed it. */
export interface PlacedCall {
  call: LlmCall;
  segment: Segment;
  record: CallRecord;
}

const PREVIEW_CHARS = 160;
const MAX_MESSAGES = 8;

export function callChanges(current: PlacedCall, previous: PlacedCall | undefined): CallChanges {
  const { call, record, segment } = current;
  if (!previous) {
    return { history: { kept: 0, previous: 0, added: record.inputLength, messages: messagesIn(segment, 0, record.inputLength) } };
  }
  const before = previous.call;
  const changes: CallChanges = {
    previousCallId: before.id,
    gapMs: Math.round(call.startedAt - (before.endedAt ?? before.startedAt)),
    history: historyChange(current, previous),
  };
  if (call.model !== before.model) changes.model = { before: before.model, after: call.model };
  // Calls that re-send an equal system prompt share it (SessionState.keep): read neither then.
  const system = sameField(before, call, 'system') ? undefined : diffText(before.system ?? '', call.system ?? '');
  if (system) changes.system = onlyBillingHeader(system) ? { ...system, billingHeaderOnly: true } : system;
  const tools = toolChanges(before, call);
  if (tools) changes.tools = tools;
  const options = optionChanges(before.options ?? {}, call.options ?? {});
  if (options.length > 0) changes.options = options;
  const markersBefore = prefixMarkers(before.cacheMarkers);
  const markersAfter = prefixMarkers(call.cacheMarkers);
  if (markersBefore.join('\n') !== markersAfter.join('\n')) changes.cacheMarkers = { before: markersBefore, after: markersAfter };
  return changes;
}

/**
 * Claude Code's system block 0 is a billing line whose `cch=` hash differs on every request; the
 * cache reads past it all the same (real captures read every earlier token while it changed).
 */
const BILLING_LINE = /^[-+]x-anthropic-billing-header:/;

function onlyBillingHeader(change: TextChange): boolean {
  return !change.truncated && change.hunks.every((h) => h.lines.every((l) => l.startsWith(' ') || BILLING_LINE.test(l)));
}

function historyChange(current: PlacedCall, previous: PlacedCall): CallChanges['history'] {
  const length = current.record.inputLength;
  const previousEnd = Math.max(previous.record.outputEnd, previous.record.inputLength);
  // A retry sends the previous request again: nothing of it is new, nothing was rewritten.
  if (current.record.retryOf !== undefined) return { kept: length, previous: previousEnd, added: 0, messages: [] };
  let kept = commonPrefix(current.segment, length, previous.segment, previousEnd);
  for (const at of current.record.edited ?? []) kept = Math.min(kept, at);
  const from = kept >= previousEnd ? previousEnd : kept;
  const change: CallChanges['history'] = { kept, previous: previousEnd, added: Math.max(0, length - from), messages: messagesIn(current.segment, from, length) };
  if (kept < previousEnd) {
    change.rewritten = {
      at: kept, before: preview(previous.segment.item(kept)), restarted: kept === 0 && current.segment.root !== previous.segment.root,
    };
    if (kept < length) change.rewritten.after = preview(current.segment.item(kept));
  }
  return change;
}

/**
 * How many leading positions two histories share: where the segment chains meet, the lesser of
 * how far each reaches through that segment (a fork shares its parent's first `length` entries).
 */
function commonPrefix(a: Segment, aEnd: number, b: Segment, bEnd: number): number {
  const reach = new Map<Segment, number>();
  for (let s: Segment | undefined = a, end = aEnd; s; end = Math.min(end, s.base), s = s.parent?.segment) reach.set(s, end);
  for (let s: Segment | undefined = b, end = bEnd; s; end = Math.min(end, s.base), s = s.parent?.segment) {
    const other = reach.get(s);
    if (other !== undefined) return Math.min(other, end);
  }
  return 0;
}

function messagesIn(segment: Segment, from: number, to: number): NewMessage[] {
  const messages: NewMessage[] = [];
  for (let i = from; i < to; i++) {
    const item = segment.item(i);
    const last = messages[messages.length - 1];
    if (last && !item.messageStart && last.role === item.role) {
      last.blocks++;
      continue;
    }
    if (messages.length === MAX_MESSAGES) break;
    messages.push({ role: item.role, preview: preview(item), blocks: 1 });
  }
  return messages;
}

function preview(item: Item): string {
  // Cut before collapsing the spaces: a tool result can be megabytes.
  const text = blockText(item.block).slice(0, PREVIEW_CHARS + 40).replace(/\s+/g, ' ').trim();
  // Detached: a slice keeps the text it was cut from, and a spilled text must not stay (decision 83).
  return detached(text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text);
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text': return block.text;
    case 'thinking': return `(thinking) ${block.text}`;
    case 'redacted-thinking': return '(redacted thinking)';
    case 'reasoning': return `(reasoning) ${block.summary}`;
    case 'tool-call': return `${block.name}(${block.arguments.slice(0, PREVIEW_CHARS)})`;
    case 'tool-result': return `(${block.isError ? 'error' : 'result'}) ${block.output}`;
    case 'image': return `(image${block.mediaType ? ` ${block.mediaType}` : ''})`;
    default: return `(${block.originalType})`;
  }
}

function toolChanges(before: LlmCall, after: LlmCall): CallChanges['tools'] {
  // Calls that re-send equal tools share one array (SessionState.keep): most calls stop here.
  if (before.tools === after.tools) return undefined;
  const old = new Map(before.tools.map((t) => [t.name, t]));
  const now = new Map(after.tools.map((t) => [t.name, t]));
  const added = after.tools.filter((t) => !old.has(t.name)).map((t) => t.name);
  const removed = before.tools.filter((t) => !now.has(t.name)).map((t) => t.name);
  const changed: Array<{ name: string; diff: TextChange }> = [];
  for (const tool of after.tools) {
    const was = old.get(tool.name);
    const diff = was ? diffText(toolText(was), toolText(tool)) : undefined;
    if (diff) changed.push({ name: tool.name, diff });
  }
  const common = after.tools.filter((t) => old.has(t.name)).map((t) => t.name);
  const commonBefore = before.tools.filter((t) => now.has(t.name)).map((t) => t.name);
  const reordered = common.join('\n') !== commonBefore.join('\n');
  if (added.length + removed.length + changed.length === 0 && !reordered) return undefined;
  return { added, removed, changed, reordered };
}

/** A tool as lines: its description as written (often many lines in one JSON string), then its schema. */
function toolText(tool: ToolDefinition): string {
  return [`kind: ${tool.kind ?? 'function'}`, '', tool.description ?? '(no description)', '', JSON.stringify(tool.inputSchema ?? null, null, 2)].join('\n');
}

function optionChanges(before: Record<string, unknown>, after: Record<string, unknown>): NonNullable<CallChanges['options']> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changes: NonNullable<CallChanges['options']> = [];
  for (const name of names) {
    if (JSON.stringify(Object.hasOwn(before, name) ? before[name] : undefined) === JSON.stringify(Object.hasOwn(after, name) ? after[name] : undefined)) continue;
    const change: { name: string; before?: unknown; after?: unknown } = { name };
    // Own names only: a request may send an option called `toString` or `constructor`.
    if (Object.hasOwn(before, name)) change.before = before[name];
    if (Object.hasOwn(after, name)) change.after = after[name];
    changes.push(change);
  }
  return changes;
}

/** Breakpoints on tools and system only: the one on the newest message moves forward with every call by design. */
export function prefixMarkers(markers: readonly CacheMarker[] | undefined): string[] {
  return (markers ?? []).filter((m) => m.where !== 'messages').map((m) => `${m.where}[${m.index}]${m.ttl ? ` ${m.ttl}` : ''}`);
}
