// The calls of one conversation thread in order, each against the one before it: what its request
// changed and what it read from the prompt cache (decision 68). Built with the session's view,
// from the segments, so it needs no call's input kept in memory.
import { callCache } from './cache-analysis';
import { callChanges, type PlacedCall } from './call-changes';
import type { ThreadPlan } from './thread-plan';
import type { CallInsight, Turn } from './types';
import { callCost, callUsage } from './usage';

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
    const changes = callChanges(current, previous);
    const { call } = current;
    const insight: CallInsight = {
      callId: call.id, turnIndex: turnOf.get(call.id) ?? 0, startedAt: Math.round(call.startedAt), usage: callUsage(call), costUsd: callCost(call) ?? null, changes,
    };
    if (call.model !== undefined) insight.model = call.model;
    const cache = callCache(call, previous?.call, changes);
    if (cache) insight.cache = cache;
    return insight;
  });
}
