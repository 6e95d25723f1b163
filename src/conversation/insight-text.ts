// Calls' changes and cache figures in words, one line each: shared by `show --markdown`, the
// conversation view and the Sessions tree's tooltip, so they all say the same thing.
import type { CacheBreakCause, CacheSummary, CallCache, CallChanges, CallInsight, TextChange } from './types';

const CAUSE_WORDS: Record<CacheBreakCause, string> = {
  'first-call': 'first call',
  'model-switched': 'model switched',
  'tools-changed': 'tools changed',
  'system-changed': 'system prompt changed',
  'marker-moved': 'cache breakpoint moved',
  'history-edited': 'history edited or compacted',
  'lifetime-passed': 'cache lifetime passed',
  unexplained: 'no change found',
};

export function causeWords(cause: CacheBreakCause): string {
  return CAUSE_WORDS[cause];
}

export const formatCount = (x: number): string => x.toLocaleString('en-US');
const n = formatCount;
const MINUTE = 60_000;

export function formatGap(ms: number): string {
  if (ms < MINUTE) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (ms < 60 * MINUTE) return `${Math.round(ms / MINUTE)} min`;
  const minutes = Math.round(ms / MINUTE);
  return `${Math.floor(minutes / 60)} h${minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
}


export function formatUsd(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** "read 8,595 of 8,595 cached · wrote 4,338 · 1 uncached", and for a break its causes and cost. */
export function cacheLine(cache: CallCache): string {
  const parts = [`read ${n(cache.cacheReadTokens)}${cache.expectedReadTokens !== undefined ? ` of ${n(cache.expectedReadTokens)}` : ''} from the cache`];
  if (cache.cacheWriteTokens > 0) parts.push(`wrote ${n(cache.cacheWriteTokens)}`);
  parts.push(`${n(cache.uncachedTokens)} uncached`);
  if (cache.missedTokens !== undefined) {
    const lost = cache.lostUsd === null || cache.lostUsd === undefined ? 'cost unknown' : `${formatUsd(cache.lostUsd)} lost`;
    parts.push(`cache break: ${(cache.causes ?? []).map(causeWords).join(', ')} (${n(cache.missedTokens)} tokens, ${lost})`);
  }
  return parts.join(' · ');
}

function textChange(what: string, c: TextChange): string {
  return `${what} +${c.added} −${c.removed} lines`;
}

/** What changed, one short item each; empty when the request only added to the history. */
export function changeItems(changes: CallChanges): string[] {
  const items: string[] = [];
  if (changes.model) items.push(`model ${changes.model.before ?? '(none)'} → ${changes.model.after ?? '(none)'}`);
  if (changes.system) items.push(changes.system.billingHeaderOnly ? 'billing header (not cached)' : textChange('system prompt', changes.system));
  const tools = changes.tools;
  if (tools) {
    const parts = [...tools.added.map((t) => `+${t}`), ...tools.removed.map((t) => `−${t}`), ...tools.changed.map((t) => `~${t.name}`)];
    if (tools.reordered) parts.push('reordered');
    items.push(`tools ${parts.join(' ')}`);
  }
  for (const o of changes.options ?? []) items.push(`${o.name} ${short(o.before)} → ${short(o.after)}`);
  if (changes.cacheMarkers) items.push(`breakpoints ${changes.cacheMarkers.before.join(', ') || 'none'} → ${changes.cacheMarkers.after.join(', ') || 'none'}`);
  const h = changes.history;
  if (h.rewritten) items.push(h.rewritten.restarted ? 'history restarted' : `history rewritten from entry ${h.rewritten.at} of ${h.previous}`);
  return items;
}

/** "after 12 s · +2 messages · system prompt +1 −1 lines". */
export function changeLine(insight: CallInsight): string {
  const { changes } = insight;
  const parts: string[] = [];
  if (changes.previousCallId === undefined) parts.push('first call of the thread');
  else if (changes.gapMs !== undefined) parts.push(`after ${formatGap(changes.gapMs)}`);
  const messages = changes.history.messages.length;
  if (messages > 0) parts.push(`+${messages} message${messages === 1 ? '' : 's'}`);
  parts.push(...changeItems(changes));
  return parts.join(' · ');
}

function short(value: unknown): string {
  if (value === undefined) return '(unset)';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 59)}…` : json;
}

/** "cache hit 92% · 2 breaks · $0.31 lost"; undefined when no call reported usage. */
export function cacheSummaryLine(cache: CacheSummary | undefined): string | undefined {
  if (!cache || cache.hitRate === null) return undefined;
  const parts = [`cache hit ${Math.round(cache.hitRate * 100)}% of ${n(cache.promptTokens)} input tokens`];
  if (cache.breaks > 0) {
    parts.push(`${cache.breaks} break${cache.breaks === 1 ? '' : 's'}`);
    parts.push(cache.lostUsd === null ? 'loss unknown (no price)' : `${formatUsd(cache.lostUsd)} lost`);
  }
  return parts.join(' · ');
}

/** A diff as unified-diff text (for a ```diff fence or a <pre>). */
export function diffBody(change: TextChange): string {
  const body = change.hunks.map((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines].join('\n')).join('\n');
  return change.truncated ? `${body}\n… (diff cut)` : body;
}
