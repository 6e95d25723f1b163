// The calls of one conversation thread in order, each against the one before it: what its request
// changed and what it read from the prompt cache (decision 68). Built with the session's view,
// from the segments, so it needs no call's input kept in memory.
import { callCache } from './cache-analysis';
import { callChanges, type PlacedCall } from './call-changes';
import { callOutcome } from './call-outcome';
import type { CallRecord } from './segment';
import type { ThreadPlan } from './thread-plan';
import type { CallInsight, Turn } from './types';
import { callCost, callUsage } from './usage';

/**
 * A call's insight against the call before it, made once: a session's view is rebuilt whenever a call
 * joins it, and every earlier call still has the same call before it (a merge or a late call that
 * changes which call comes before makes it again).
 */
const made = new WeakMap<CallRecord, { previous: CallRecord | undefined; insight: Omit<CallInsight, 'turnIndex'> }>();

/** A thread's calls grouped by the turn that holds them (views show them per turn). */
export function callsByTurn(calls: readonly CallInsight[]): Map<number, CallInsight[]> {
  const byTurn = new Map<number, CallInsight[]>();
  for (const call of calls) byTurn.set(call.turnIndex, [...(byTurn.get(call.turnIndex) ?? []), call]);
  return byTurn;
}

export function threadCallInsights(plan: ThreadPlan, turns: readonly Turn[]): CallInsight[] {
  const placed: Array<PlacedCall & { seq: number }> = [];
  for (const segment of plan.segments) {
    for (const record of segment.calls) placed.push({ call: record.call, segment, record, seq: placed.length });
  }
  placed.sort((a, b) => a.call.startedAt - b.call.startedAt || a.seq - b.seq);
  const turnOf = new Map<string, number>();
  for (const turn of turns) for (const id of turn.llmCallIds) turnOf.set(id, turn.index);
  return placed.map((current, i) => {
    const previous = i > 0 ? placed[i - 1] : undefined;
    const turnIndex = turnOf.get(current.call.id) ?? 0;
    const known = made.get(current.record);
    if (known && known.previous === previous?.record) return { ...known.insight, turnIndex };
    const changes = callChanges(current, previous);
    const { call } = current;
    const insight: Omit<CallInsight, 'turnIndex'> = {
      callId: call.id, startedAt: Math.round(call.startedAt), usage: callUsage(call), costUsd: callCost(call) ?? null, changes, outcome: callOutcome(call),
    };
    if (call.model !== undefined) insight.model = call.model;
    const cache = callCache(call, previous?.call, changes);
    if (cache) insight.cache = cache;
    made.set(current.record, { previous: previous?.record, insight });
    return { ...insight, turnIndex };
  });
}
