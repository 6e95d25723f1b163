// Builds the output contract (session detail and summary) from a session's incremental state:
// threads from the plan, turns and steps, tool pairing, subagent marks, side threads, usage and
// cost sums, the title. Pure and deterministic: the same state always gives the same view.
import type { LlmCall, SideKind, ToolDefinition } from '../llm/llm-call';
import { summarizeCache } from './cache-analysis';
import { callOutcome } from './call-outcome';
import { threadCallInsights } from './call-insights';
import { FlatInput } from './history';
import { isRealPrompt } from './scaffolding';
import type { SessionState } from './session-state';
import { promptTextAt } from './spawn-calls';
import { copyField, definedField, derivedValue, isSpilledField } from './spilled-text';
import { markSubagentCalls, pairToolSteps, stepFor } from './steps';
import { planThreads, type ThreadPlan } from './thread-plan';
import { buildTurns, type TurnDraft } from './turns';
import type { SessionDetail, SessionSummary, Step, Thread, Turn } from './types';
import { UsageSum } from './usage';
import { ASSEMBLER_VERSION } from './version';

const TITLE_MAX = 120;

function mostCommon(values: Iterable<string | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) if (n > bestCount) [best, bestCount] = [v, n];
  return best;
}

/** A turn, and the usage sum it was made from (threads and sessions add these up). */
function finishTurn(draft: TurnDraft, calls: readonly LlmCall[], retries: number, sum = new UsageSum()): Turn {
  let startedAt = calls.length > 0 ? Infinity : draft.at;
  let endedAt = calls.length > 0 ? -Infinity : draft.at;
  const models = new Set<string>();
  for (const call of calls) {
    sum.addCall(call);
    startedAt = Math.min(startedAt, call.startedAt);
    endedAt = Math.max(endedAt, call.endedAt ?? call.startedAt);
    if (call.model !== undefined) models.add(call.model);
  }
  // Whole milliseconds in the output contract (capture times are sub-millisecond); threads and
  // sessions are built from these, so they are whole too.
  const turn: Turn = {
    index: draft.index, prompt: '', startedAt: Math.round(startedAt), endedAt: Math.round(endedAt), ...sum.fields(), steps: draft.steps,
    llmCallIds: calls.map((c) => c.id), retries, models: [...models],
  };
  copyField(turn, 'prompt', draft, 'prompt');
  return turn;
}

function toolNames(calls: readonly LlmCall[]): string[] {
  const names = new Set<string>();
  for (const call of calls) for (const tool of call.tools) names.add(tool.name);
  return [...names];
}

/** One definition per name, the latest sent (a client may change one mid-thread), shared with the calls. */
function toolDefinitions(calls: readonly LlmCall[]): ToolDefinition[] {
  const byName = new Map<string, ToolDefinition>();
  for (const call of calls) for (const tool of call.tools) byName.set(tool.name, tool);
  return [...byName.values()];
}

function threadTotals(turns: readonly Turn[], sum: UsageSum): Pick<Thread, 'usage' | 'costUsd' | 'unpricedModels' | 'startedAt' | 'endedAt'> {
  let startedAt = Infinity;
  let endedAt = -Infinity;
  for (const turn of turns) {
    startedAt = Math.min(startedAt, turn.startedAt);
    endedAt = Math.max(endedAt, turn.endedAt);
  }
  return { ...sum.fields(), startedAt: turns.length ? startedAt : 0, endedAt: turns.length ? endedAt : 0 };
}

/**
 * Sets the thread's system prompt as sent: the `system` field (copied as a reference when
 * spilled), or the leading system/developer messages.
 */
function setSystemPrompt(thread: Thread, plan: ThreadPlan, calls: readonly LlmCall[]): void {
  const fromCall = calls.find((c) => definedField(c, 'system'));
  if (fromCall) copyField(thread, 'systemPrompt', fromCall, 'system');
  else thread.systemPrompt = systemMessagesOf(plan);
}

function systemMessagesOf(plan: ThreadPlan): string | undefined {
  const root = plan.segments[0]!;
  const parts: string[] = [];
  for (const item of root.own) {
    if (item.role !== 'system') break;
    if (item.block.type === 'text') parts.push(item.block.text);
  }
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

function conversationThread(plan: ThreadPlan, sessionSum: UsageSum): Thread {
  const drafts = buildTurns(plan.segments);
  const allCalls: LlmCall[] = [];
  const threadSum = new UsageSum();
  const turns = drafts.map((draft) => {
    const records = [...draft.records].sort((a, b) => a.call.startedAt - b.call.startedAt);
    const calls = records.map((r) => r.call);
    for (const call of calls) allCalls.push(call);
    const sum = new UsageSum();
    const turn = finishTurn(draft, calls, records.filter((r) => r.retryOf !== undefined).length, sum);
    threadSum.addSum(sum);
    return turn;
  });
  sessionSum.addSum(threadSum);
  pairToolSteps(turns);
  const tools = toolNames(allCalls);
  const thread: Thread = {
    id: plan.id, kind: plan.kind, model: mostCommon(allCalls.map((c) => c.model)), systemPrompt: undefined,
    tools, toolDefinitions: toolDefinitions(allCalls), turns, ...threadTotals(turns, threadSum), segments: plan.segments.filter((s) => !s.parent).length,
    calls: threadCallInsights(plan, turns),
  };
  setSystemPrompt(thread, plan, allCalls);
  if (plan.parentThreadId !== undefined) thread.parentThreadId = plan.parentThreadId;
  if (plan.parentToolCallId !== undefined) thread.parentToolCallId = plan.parentToolCallId;
  if (plan.parentToolCallCandidates) thread.parentToolCallCandidates = plan.parentToolCallCandidates;
  return thread;
}

/** The last real prompt of a side call's input (what a title or score was asked about). */
function sidePrompt(call: LlmCall): string {
  if (call.side === 'count-tokens' || call.side === 'prewarm') return '';
  const input = new FlatInput(call.input);
  for (let i = input.length - 1; i >= 0; i--) {
    const entry = input.entry(i);
    if (!isRealPrompt(entry.role, entry.block)) continue;
    let start = i;
    while (start > 0 && !input.entry(start).messageStart) start--;
    return promptTextAt(input, start);
  }
  return '';
}

function sideThread(kind: SideKind, calls: LlmCall[], sessionSum: UsageSum): Thread {
  const threadSum = new UsageSum();
  const turns = calls.map((call, index) => {
    const steps: Step[] = call.output.map((block, i) => stepFor({ role: 'assistant', block, messageStart: i === 0, llmCallId: call.id, at: call.startedAt }, false));
    if (call.side === 'count-tokens' && call.usage?.inputTokens !== undefined) {
      steps.push({ type: 'text', role: 'system', text: `Counted ${call.usage.inputTokens} input tokens (not consumed).`, scaffolding: true, llmCallId: call.id });
    }
    const sum = new UsageSum();
    const turn = finishTurn({ index, prompt: sidePrompt(call), steps, records: [], at: call.startedAt }, [call], 0, sum);
    threadSum.addSum(sum);
    return { ...turn, outcome: callOutcome(call) };
  });
  sessionSum.addSum(threadSum);
  return {
    id: `side:${kind}`, kind: 'side', sideKind: kind, model: mostCommon(calls.map((c) => c.model)), tools: toolNames(calls),
    toolDefinitions: toolDefinitions(calls), turns, ...threadTotals(turns, threadSum), segments: 0, calls: [],
  };
}

/** A title from a title call's answer: Claude's JSON `{title}`, or the text itself. */
export function titleFromOutput(call: LlmCall): string | undefined {
  const text = call.output.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('').trim();
  if (text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { title?: unknown }).title === 'string') {
      return clip((parsed as { title: string }).title);
    }
  } catch {
    // Plain text titles (Codex, OpenCode) are not JSON.
  }
  return clip(text);
}

function clip(text: string): string {
  const line = text.trim().split('\n')[0]!.trim();
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1)}…` : line;
}

export function buildSessionDetail(state: SessionState): SessionDetail {
  const threads: Thread[] = [];
  const threadOfCall = new Map<string, string>();
  // Every call sits in exactly one turn, so the session's sum is the sum of its threads' sums.
  const sessionSum = new UsageSum();
  for (const plan of planThreads(state)) {
    threads.push(conversationThread(plan, sessionSum));
    if (plan.parentToolCallId !== undefined) threadOfCall.set(plan.parentToolCallId, plan.id);
  }
  for (const thread of threads) markSubagentCalls(thread.turns, threadOfCall);
  const sides = new Map<SideKind, LlmCall[]>();
  for (const call of [...state.sideCalls].sort((a, b) => a.startedAt - b.startedAt)) {
    const list = sides.get(call.side!) ?? [];
    list.push(call);
    sides.set(call.side!, list);
  }
  for (const [kind, calls] of [...sides].sort(([a], [b]) => a.localeCompare(b))) threads.push(sideThread(kind, calls, sessionSum));
  const summary = summarize(state, threads, sessionSum);
  return { id: state.id, client: state.client, provider: state.provider, summary, threads, mergedSessionIds: [...state.mergedIds], assemblerVersion: ASSEMBLER_VERSION };
}

function summarize(state: SessionState, threads: readonly Thread[], sum: UsageSum): SessionSummary {
  const main = threads.find((t) => t.kind === 'main') ?? threads.find((t) => t.kind === 'subagent');
  const titles = state.sideCalls.filter((c) => c.side === 'title').sort((a, b) => a.startedAt - b.startedAt);
  let title: string | undefined;
  for (const call of titles) title = titleFromOutput(call) ?? title;
  // A spilled prompt (a getter) is never empty; its title is worked out once (derivedValue).
  const first = main?.turns.find((t) => isSpilledField(t, 'prompt') || t.prompt !== '');
  title ??= (first ? derivedValue(first, 'prompt', clip) : '') || '(untitled)';
  return {
    id: state.id, client: state.client, provider: state.provider, model: main?.model ?? mostCommon(state.sideCalls.map((c) => c.model)),
    title, startedAt: Math.round(state.startedAt), endedAt: Math.round(state.lastAt), threadCount: threads.length, turnCount: main?.turns.length ?? 0,
    ...sum.fields(), callCount: state.callCount, cache: summarizeCache(threads.flatMap((t) => t.calls.flatMap((c) => (c.cache ? [c.cache] : [])))), idSource: state.idSource, assemblerVersion: ASSEMBLER_VERSION,
  };
}
