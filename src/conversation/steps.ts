// History entries as display steps, and tool calls paired with their results (errors included),
// so that a tool_call step carries its output and a tool_result step names its tool.
import type { Item } from './history';
import { scaffoldingKind } from './scaffolding';
import type { Step, Turn } from './types';

/** The step for one entry that is not part of a turn's prompt. */
export function stepFor(item: Item, alternative: boolean): Step {
  const { role, block } = item;
  const step = ((): Step => {
    switch (block.type) {
      case 'text': {
        if (role === 'system') return { type: 'text', role, text: block.text, scaffolding: true, scaffoldingKind: 'system' };
        const kind = role === 'user' ? scaffoldingKind(block.text) : undefined;
        return kind ? { type: 'text', role, text: block.text, scaffolding: true, scaffoldingKind: kind } : { type: 'text', role, text: block.text };
      }
      case 'thinking':
        return { type: 'thinking', role, text: block.text };
      case 'redacted-thinking':
        return { type: 'thinking', role, text: '', redacted: true };
      case 'reasoning':
        return { type: 'thinking', role, text: block.summary, ...(block.encrypted ? { redacted: true } : {}) };
      case 'tool-call':
        return { type: 'tool_call', role, name: block.name, callId: block.callId, arguments: block.arguments };
      case 'tool-result':
        return { type: 'tool_result', role, callId: block.callId, output: block.output, isError: block.isError === true };
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
    call.output = result.output;
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
