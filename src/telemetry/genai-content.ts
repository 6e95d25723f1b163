// Content attributes, sent only when the user opts in: the GenAI conventions' JSON message shapes
// (`{role, parts: [{type: 'text' | 'reasoning' | 'tool_call' | 'tool_call_response', …}]}`),
// rebuilt from a thread's steps, which are redacted as the store is. A call's input is the
// thread's history up to it (from its last restart); an attribute over the limit keeps its
// newest messages and says how many it left out.
import type { ToolDefinition } from '../llm/llm-call';
import type { Step, Thread } from '../conversation/types';

export interface ContentLimit {
  /** Characters per attribute value (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, or ours). */
  maxChars: number;
}

type Part =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: string };

interface Message {
  role: 'user' | 'assistant' | 'tool' | 'system';
  parts: Part[];
  finish_reason?: string;
}

export function systemInstructions(text: string, limit: ContentLimit | undefined): string {
  return fit([{ type: 'text', content: text }], limit);
}

export function toolDefinitions(tools: readonly ToolDefinition[], limit: ContentLimit | undefined): string {
  return fit(tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.inputSchema })), limit);
}

/** What the call's request carried: the thread's prompts and steps before its own answer. */
export function inputMessages(thread: Thread, callId: string, limit: ContentLimit | undefined): string {
  const upTo = callsUpTo(thread, callId);
  let messages: Message[] = [];
  for (const turn of thread.turns) {
    if (!turn.llmCallIds.some((id) => upTo.has(id))) break;
    if (turn.prompt) push(messages, 'user', { type: 'text', content: turn.prompt });
    for (const step of turn.steps) {
      if (step.marker === 'history-restart') {
        messages = [];
        continue;
      }
      if (step.llmCallId !== undefined && !upTo.has(step.llmCallId)) continue;
      if (step.llmCallId === callId && step.role === 'assistant') continue;
      const part = partOf(step);
      if (part) push(messages, roleOf(step), part);
    }
  }
  return fitMessages(messages, limit);
}

/** The call's own answer. */
export function outputMessages(thread: Thread, callId: string, stopReason: string | undefined, limit: ContentLimit | undefined): string {
  const parts: Part[] = [];
  for (const turn of thread.turns) {
    for (const step of turn.steps) {
      if (step.llmCallId !== callId || step.role !== 'assistant') continue;
      const part = partOf(step);
      if (part) parts.push(part);
    }
  }
  const message: Message = { role: 'assistant', parts };
  if (stopReason) message.finish_reason = stopReason;
  return fitMessages([message], limit);
}

function callsUpTo(thread: Thread, callId: string): Set<string> {
  const ids = new Set<string>();
  for (const call of [...thread.calls].sort((a, b) => a.startedAt - b.startedAt)) {
    ids.add(call.callId);
    if (call.callId === callId) break;
  }
  return ids;
}

function roleOf(step: Step): Message['role'] {
  if (step.type === 'tool_result') return 'tool';
  return step.role;
}

function partOf(step: Step): Part | undefined {
  switch (step.type) {
    case 'text':
      return step.text !== undefined ? { type: 'text', content: step.text } : undefined;
    case 'thinking':
      return step.text !== undefined && !step.redacted ? { type: 'reasoning', content: step.text } : undefined;
    case 'tool_call':
      return { type: 'tool_call', id: step.callId, name: step.name ?? 'tool', arguments: parsedArguments(step.arguments) };
    case 'tool_result':
      return { type: 'tool_call_response', id: step.callId, response: step.output ?? step.text ?? '' };
  }
}

function parsedArguments(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Consecutive steps of one role make one message. */
function push(messages: Message[], role: Message['role'], part: Part): void {
  const last = messages[messages.length - 1];
  if (last && last.role === role) last.parts.push(part);
  else messages.push({ role, parts: [part] });
}

function fitMessages(messages: Message[], limit: ContentLimit | undefined): string {
  const max = limit?.maxChars ?? Infinity;
  const whole = JSON.stringify(messages);
  if (whole.length <= max) return whole;
  // Drop the oldest messages until the rest and the note that says so fit.
  const note = (n: number): Message => ({ role: 'system', parts: [{ type: 'text', content: `[${n} earlier messages left out: over the attribute size limit]` }] });
  let length = whole.length;
  let dropped = 0;
  while (dropped < messages.length && length + JSON.stringify(note(dropped)).length + 1 > max) length -= JSON.stringify(messages[dropped++]).length + 1;
  const text = JSON.stringify([note(dropped), ...messages.slice(dropped)]);
  return text.length <= max ? text : JSON.stringify([note(messages.length)]);
}

function fit(value: unknown, limit: ContentLimit | undefined): string {
  const text = JSON.stringify(value);
  return text.length > (limit?.maxChars ?? Infinity) ? JSON.stringify([{ type: 'text', content: '[left out: over the attribute size limit]' }]) : text;
}
