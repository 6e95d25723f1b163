// Prompt-cache figures per call, and when a call read less from the cache than the previous call
// of its thread left there, the likely cause and what it cost (decision 68). Figures come from
// each provider's own usage fields (usage.ts brings them to one convention); causes come from what
// the request changed (call-changes.ts) and from the time since the previous call.
import type { LlmCall } from '../llm/llm-call';
import { formatCount as n, formatGap } from './insight-text';
import { costOf } from './pricing';
import type { CacheBreakCause, CacheSummary, CallCache, CallChanges, UsageTotals } from './types';
import { callUsage } from './usage';

const MINUTE = 60_000;
/**
 * Anthropic writes a prefix for five minutes, or an hour with `ttl: "1h"`, refreshed on each read
 * (https://docs.claude.com/en/docs/build-with-claude/prompt-caching). OpenAI keeps cached prefixes
 * in memory for 5–10 minutes of inactivity (up to an hour), or 24 hours with
 * `prompt_cache_retention: "24h"` (https://platform.openai.com/docs/guides/prompt-caching).
 * Gemini documents no lifetime for its implicit cache, so no break is put down to time there.
 */
function cacheLifetimeMs(call: LlmCall): { ms: number; text: string } | undefined {
  if (call.api === 'anthropic-messages') {
    return call.cacheMarkers?.some((m) => m.ttl === '1h') ? { ms: 60 * MINUTE, text: '1 hour' } : { ms: 5 * MINUTE, text: '5 minutes' };
  }
  if (call.api === 'openai-responses' || call.api === 'openai-chat-completions') {
    return call.options?.prompt_cache_retention === '24h' ? { ms: 24 * 60 * MINUTE, text: '24 hours' } : { ms: 5 * MINUTE, text: '5–10 minutes' };
  }
  return undefined;
}

/** OpenAI caches prompts of 1,024 tokens or more, in steps of 128 (the guide above). */
const AUTOMATIC_MIN_TOKENS = 1024;
const AUTOMATIC_STEP = 128;
/** A shortfall smaller than this is rounding on the provider's side, not a break. */
const TOLERANCE_TOKENS = 256;
const TOLERANCE_SHARE = 0.05;

function promptOf(u: UsageTotals): number {
  return u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

/** What `previous` left in the cache for the next call of its thread to read. */
function leftInCache(previous: LlmCall): number {
  const u = callUsage(previous);
  // Anthropic caches up to the request's last breakpoint: what it read plus what it wrote.
  if (previous.api === 'anthropic-messages') return u.cacheReadTokens + u.cacheWriteTokens;
  // The others cache every prompt automatically, in fixed steps, above a minimum size.
  const prompt = promptOf(u);
  if (prompt < AUTOMATIC_MIN_TOKENS) return 0;
  return previous.api === 'gemini' ? prompt : Math.floor(prompt / AUTOMATIC_STEP) * AUTOMATIC_STEP;
}

export function callCache(call: LlmCall, previous: LlmCall | undefined, changes: CallChanges): CallCache | undefined {
  if (!call.usage) return undefined;
  const u = callUsage(call);
  const cache: CallCache = {
    promptTokens: promptOf(u), cacheReadTokens: u.cacheReadTokens, cacheWriteTokens: u.cacheWriteTokens, uncachedTokens: u.inputTokens,
  };
  if (!previous) {
    cache.causes = ['first-call'];
    cache.explanation = `First call of this thread: nothing was cached for it yet${u.cacheWriteTokens > 0 ? ` (it wrote ${n(u.cacheWriteTokens)} tokens to the cache)` : ''}.`;
    return cache;
  }
  if (!previous.usage) return cache;
  const expected = Math.min(leftInCache(previous), cache.promptTokens);
  cache.expectedReadTokens = expected;
  const missed = expected - u.cacheReadTokens;
  if (missed < Math.max(TOLERANCE_TOKENS, expected * TOLERANCE_SHARE)) return cache;
  cache.missedTokens = missed;
  const causes = causesOf(call, changes);
  cache.causes = causes.map((c) => c.cause);
  cache.explanation = `Read ${n(u.cacheReadTokens)} of the ${n(expected)} tokens the previous call left in the cache. ${causes.map((c) => c.text).join(' ')}`;
  cache.lostUsd = lostUsd(call, u, missed);
  return cache;
}

function causesOf(call: LlmCall, changes: CallChanges): Array<{ cause: CacheBreakCause; text: string }> {
  const causes: Array<{ cause: CacheBreakCause; text: string }> = [];
  const { model, tools, system, cacheMarkers, history, gapMs } = changes;
  if (model) causes.push({ cause: 'model-switched', text: `The model changed from ${model.before ?? '(none)'} to ${model.after ?? '(none)'}; a cache belongs to one model.` });
  if (tools) {
    const parts = [
      tools.added.length > 0 ? `added ${tools.added.join(', ')}` : '', tools.removed.length > 0 ? `removed ${tools.removed.join(', ')}` : '',
      tools.changed.length > 0 ? `changed ${tools.changed.map((t) => t.name).join(', ')}` : '', tools.reordered ? 'reordered' : '',
    ].filter(Boolean);
    causes.push({ cause: 'tools-changed', text: `The tools changed (${parts.join('; ')}); they come first in the prompt.` });
  }
  if (system && !system.billingHeaderOnly) causes.push({ cause: 'system-changed', text: `The system prompt changed (+${system.added} −${system.removed} lines).` });
  if (cacheMarkers) {
    causes.push({ cause: 'marker-moved', text: `The cache breakpoints on tools and system moved (${cacheMarkers.before.join(', ') || 'none'} → ${cacheMarkers.after.join(', ') || 'none'}).` });
  }
  if (history.rewritten) {
    const how = history.rewritten.restarted ? 'The history was restarted (compaction or /clear)' : `The history was rewritten from entry ${history.rewritten.at} of ${history.previous}`;
    causes.push({ cause: 'history-edited', text: `${how}; the cache holds only the prefix before it.` });
  }
  const lifetime = cacheLifetimeMs(call);
  if (lifetime && gapMs !== undefined && gapMs > lifetime.ms) {
    causes.push({ cause: 'lifetime-passed', text: `${formatGap(gapMs)} passed since the previous call, longer than the cache's lifetime (${lifetime.text}).` });
  }
  if (causes.length === 0) {
    const within = gapMs !== undefined ? ` and came ${formatGap(gapMs)} after it` : '';
    causes.push({ cause: 'unexplained', text: `The request kept the previous prefix unchanged${within}; the provider did not reuse its cache (evicted early or served elsewhere).` });
  }
  return causes;
}

/** The missed tokens' cost over reading them from the cache: they were written again or sent uncached. */
function lostUsd(call: LlmCall, u: UsageTotals, missed: number): number | null {
  const actual = costOf(call.model, { uncachedInput: u.inputTokens, output: u.outputTokens, cacheRead: u.cacheReadTokens, cacheWrite: u.cacheWriteTokens });
  const fromWrites = Math.min(missed, u.cacheWriteTokens);
  const fromInput = Math.min(missed - fromWrites, u.inputTokens);
  const ideal = costOf(call.model, {
    uncachedInput: u.inputTokens - fromInput, output: u.outputTokens, cacheRead: u.cacheReadTokens + fromWrites + fromInput, cacheWrite: u.cacheWriteTokens - fromWrites,
  });
  if (actual === undefined || ideal === undefined) return null;
  return Math.round((actual - ideal) * 1e6) / 1e6;
}

export function summarizeCache(caches: Iterable<CallCache>): CacheSummary {
  let prompt = 0;
  let read = 0;
  let breaks = 0;
  let missed = 0;
  let lost: number | null = 0;
  for (const c of caches) {
    prompt += c.promptTokens;
    read += c.cacheReadTokens;
    if (c.missedTokens === undefined) continue;
    breaks++;
    missed += c.missedTokens;
    lost = lost === null || c.lostUsd === null || c.lostUsd === undefined ? null : lost + c.lostUsd;
  }
  return {
    promptTokens: prompt, cacheReadTokens: read, hitRate: prompt > 0 ? read / prompt : null, breaks, missedTokens: missed,
    lostUsd: lost === null ? null : Math.round(lost * 1e6) / 1e6,
  };
}
