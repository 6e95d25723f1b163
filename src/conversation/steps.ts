// History entries as display steps, and tool calls paired with their results (errors included),
// so that a tool_call step carries its output and a tool_result step names its tool.
import type { Item } from './history';
import { scaffoldingKind } from './scaffolding';
import { copyField, leadingText } from './spilled-text';
import type { Step, Turn } from './types';

/**
 * The step for one entry that is not part of a turn's prompt. Its text is copied with copyField:
 * a spilled text stays a reference (spilled-text.ts).
 */
export function stepFor(item: Item, alternative: boolean): Step {
  const { role, block } = item;
  const step = ((): Step => {
    switch (block.type) {
      case 'text': {
        const kind = role === 'system' ? 'system' : role === 'user' ? scaffoldingKind(leadingText(block)) : undefined;
        const text: Step = { type: 'text', role, text: '' };
        copyField(text, 'text', block, 'text');
        return kind ? Object.assign(text, { scaffolding: true, scaffoldingKind: kind }) : text;
      }
      case 'thinking':
        return copied({ type: 'thinking', role, text: '' }, 'text', block, 'text');
      case 'redacted-thinking':
        return { type: 'thinking', role, text: '', redacted: true };
      case 'reasoning': {
        const step = copied({ type: 'thinking', role, text: '' }, 'text', block, 'summary');
        return block.encrypted ? Object.assign(step, { redacted: true }) : step;
      }
      case 'tool-call':
        return copied({ type: 'tool_call', role, name: block.name, callId: block.callId, arguments: '' }, 'arguments', block, 'arguments');
      case 'tool-result': {
        const step = copied({ type: 'tool_result', role, callId: block.callId, output: '' }, 'output', block, 'output');
        step.isError = block.isError === true;
        return step;
      }
      case 'image':
        return { type: 'text', role, text: '[image]', ...(block.mediaType ? { detail: block.mediaType } : {}) };
      case 'unknown':
        return { type: 'text', role, text: `[${block.originalType}]`, detail: block.originalType };
    }
  })();
  step.llmCallId = item.llmCallId;
  if (alternative && role === 'assistant') step.alternative = true;
  return step;
}

function copied(step: Step, key: keyof Step & string, block: object, blockKey: string): Step {
  copyField(step, key, block, blockKey);
  return step;
}

/**
 * Pairs tool calls and results within one thread (ids are unique per thread; a result normally
 * follows its call, but order is not relied on).
 */
export function pairToolSteps(turns: readonly Pick<Turn, 'steps'>[]): void {
  const calls = new Map<string, Step>();
  const results: Step[] = [];
  for (const turn of turns) {
    for (const step of turn.steps) {
      if (step.callId === undefined) continue;
      if (step.type === 'tool_call') calls.set(step.callId, step);
      else if (step.type === 'tool_result') results.push(step);
    }
  }
  for (const result of results) {
    const call = calls.get(result.callId!);
    if (!call) continue;
    copyField(call, 'output', result, 'output');
    call.isError = result.isError;
    result.name = call.name;
  }
}

/** Marks the tool calls that started subagents with the subagent's thread id. */
export function markSubagentCalls(turns: readonly Pick<Turn, 'steps'>[], threadOfCall: ReadonlyMap<string, string>): void {
  if (threadOfCall.size === 0) return;
  for (const turn of turns) {
    for (const step of turn.steps) {
      if (step.type !== 'tool_call' || step.callId === undefined) continue;
      const thread = threadOfCall.get(step.callId);
      if (thread !== undefined) step.subagentThreadId = thread;
    }
  }
}
