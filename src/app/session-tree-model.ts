// The Sessions view as plain data: sessions → threads (main; subagents nested under the turn whose
// tool call started them; side requests folded into one node) → turns. Pure: SessionSummary and
// SessionDetail in, node descriptors out; src/extension only turns them into TreeItems.
import type { CacheSummary, SessionDetail, SessionSummary, Thread, Turn, UsageTotals } from '../conversation';

export type Collapsible = 'none' | 'collapsed' | 'expanded';
export type NodeKind = 'session' | 'thread' | 'side-group' | 'turn';

export interface TreeNodeDescriptor {
  id: string;
  kind: NodeKind;
  sessionId: string;
  threadId?: string;
  turnIndex?: number;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon name (with `~spin` for an animated one). */
  icon: string;
  collapsible: Collapsible;
  children: string[];
}

export interface SessionTree {
  /** The session's own node first, then every descendant. */
  nodes: Map<string, TreeNodeDescriptor>;
  root: TreeNodeDescriptor;
}

const CLIENT_ICONS: Record<string, string> = {
  'claude-code': 'sparkle',
  codex: 'terminal',
  opencode: 'code',
  'gemini-cli': 'star-empty',
  aider: 'tools',
  generic: 'hubot',
};

const CLIENT_NAMES: Record<string, string> = {
  'claude-code': 'Claude Code',
  codex: 'Codex',
  opencode: 'OpenCode',
  'gemini-cli': 'Gemini CLI',
  aider: 'Aider',
  generic: 'LLM client',
};

export function clientIcon(client: string): string {
  return CLIENT_ICONS[client] ?? 'hubot';
}

export function clientName(client: string): string {
  return CLIENT_NAMES[client] ?? client;
}

/** 1234 → "1.2k", 1_500_000 → "1.5M". */
export function compactNumber(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function totalTokens(u: UsageTotals): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

export function shortCost(costUsd: number | null): string {
  if (costUsd === null) return '$?';
  if (costUsd === 0) return '$0';
  return costUsd < 0.01 ? '<$0.01' : `$${costUsd.toFixed(2)}`;
}

/** "just now", "5m ago", "3h ago", "2d ago". */
export function relativeTime(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

/** The first line of a text, shortened to `max` characters. */
export function oneLine(text: string, max = 80): string {
  // A title can be a whole first prompt: a prefix whose line is already too long gives the same
  // shortened line as the whole text, without going through all of it.
  const prefix = text.length > 4 * max ? text.slice(0, 4 * max) : text;
  const head = prefix.replace(/\s+/g, ' ').trim();
  const line = head.length > max || prefix === text ? head : text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function figures(usage: UsageTotals, costUsd: number | null): string {
  return `${compactNumber(totalTokens(usage))} tok · ${shortCost(costUsd)}`;
}

function usageTooltip(usage: UsageTotals, costUsd: number | null, unpriced: readonly string[]): string {
  const cost = costUsd === null ? `unknown (no price for ${unpriced.join(', ') || 'a model'})` : `$${costUsd.toFixed(4)}`;
  return `Tokens: ${usage.inputTokens} in · ${usage.outputTokens} out · ${usage.cacheReadTokens} cache read · ${usage.cacheWriteTokens} cache write\nCost: ${cost}`;
}

export function sessionNodeId(sessionId: string): string {
  return `s:${sessionId}`;
}

export interface SessionNodeOptions {
  now: number;
  streaming?: boolean;
  /** Children ids, once the detail is known; a session is collapsible either way. */
  children?: string[];
}

export function sessionNode(s: SessionSummary, o: SessionNodeOptions): TreeNodeDescriptor {
  return {
    id: sessionNodeId(s.id),
    kind: 'session',
    sessionId: s.id,
    label: oneLine(s.title || '(untitled session)'),
    description: [s.model, figures(s.usage, s.costUsd), relativeTime(s.endedAt, o.now)].filter(Boolean).join(' · '),
    tooltip: [
      `${clientName(s.client)} session ${s.id}${o.streaming ? ' (streaming)' : ''}`,
      s.title,
      `Model: ${s.model ?? 'unknown'}`,
      `${s.turnCount} turn(s), ${s.threadCount} thread(s), ${s.callCount} call(s)`,
      usageTooltip(s.usage, s.costUsd, s.unpricedModels),
      ...cacheTooltip(s.cache),
      `Started ${new Date(s.startedAt).toISOString()}, last activity ${new Date(s.endedAt).toISOString()}`,
    ].join('\n'),
    icon: o.streaming ? 'loading~spin' : clientIcon(s.client),
    collapsible: 'collapsed',
    children: o.children ?? [],
  };
}

/** Every node under one session, built from its detail. */
export function buildSessionTree(detail: SessionDetail, o: SessionNodeOptions): SessionTree {
  const nodes = new Map<string, TreeNodeDescriptor>();
  const sid = detail.id;
  const threads = new Map(detail.threads.map((t) => [t.id, t]));
  // Subagents linked to the tool call that started them hang under that call's turn.
  const spawnedBy = new Map<string, string[]>();
  const placed = new Set<string>();
  for (const t of detail.threads) {
    for (const turn of t.turns) {
      for (const step of turn.steps) {
        if (step.type !== 'tool_call' || !step.subagentThreadId || !threads.has(step.subagentThreadId)) continue;
        const key = `${t.id}#${turn.index}`;
        const list = spawnedBy.get(key) ?? [];
        if (!list.includes(step.subagentThreadId)) list.push(step.subagentThreadId);
        spawnedBy.set(key, list);
        placed.add(step.subagentThreadId);
      }
    }
  }

  const breaksAt = cacheBreakLines(detail.threads);
  const threadId = (t: Thread) => `${sessionNodeId(sid)}/t:${t.id}`;
  const addThread = (t: Thread, depth: number): string => {
    const id = threadId(t);
    if (nodes.has(id) || depth > 32) return id;
    const turnIds = t.turns.map((turn) => addTurn(t, turn, depth));
    const first = t.turns.find((turn) => turn.prompt)?.prompt ?? '';
    const label = t.kind === 'main' ? 'main' : t.kind === 'side' ? (t.sideKind ?? 'side request') : oneLine(first || 'subagent', 60);
    nodes.set(id, {
      id, kind: 'thread', sessionId: sid, threadId: t.id,
      label: t.kind === 'subagent' ? `subagent: ${label}` : label,
      description: `${t.model ? `${t.model} · ` : ''}${figures(t.usage, t.costUsd)} · ${t.turns.length} turn(s)`,
      tooltip: [`${t.kind} thread ${t.id}`, `Model: ${t.model ?? 'unknown'}`, usageTooltip(t.usage, t.costUsd, t.unpricedModels)].join('\n'),
      icon: t.kind === 'main' ? 'comment-discussion' : t.kind === 'subagent' ? 'type-hierarchy-sub' : 'symbol-event',
      collapsible: turnIds.length > 0 ? (t.kind === 'main' ? 'expanded' : 'collapsed') : 'none',
      children: turnIds,
    });
    return id;
  };
  const addTurn = (t: Thread, turn: Turn, depth: number): string => {
    const id = `${threadId(t)}/turn:${turn.index}`;
    const children = (spawnedBy.get(`${t.id}#${turn.index}`) ?? []).map((sub) => addThread(threads.get(sub)!, depth + 1));
    const tools = turn.steps.filter((s) => s.type === 'tool_call').length;
    nodes.set(id, {
      id, kind: 'turn', sessionId: sid, threadId: t.id, turnIndex: turn.index,
      label: oneLine(turn.prompt || '(no prompt)'),
      description: `${figures(turn.usage, turn.costUsd)}${tools ? ` · ${tools} tool call(s)` : ''} · ${relativeTime(turn.startedAt, o.now)}`,
      tooltip: [
        oneLine(turn.prompt || '(no prompt)', 400),
        `Models: ${turn.models.join(', ') || 'unknown'}`,
        `${turn.llmCallIds.length} call(s)${turn.retries ? `, ${turn.retries} retried` : ''}`,
        usageTooltip(turn.usage, turn.costUsd, turn.unpricedModels),
        ...(breaksAt.get(`${t.id}#${turn.index}`) ?? []),
        new Date(turn.startedAt).toISOString(),
      ].join('\n'),
      icon: turn.steps.some((s) => s.isError) ? 'warning' : 'comment',
      collapsible: children.length > 0 ? 'collapsed' : 'none',
      children,
    });
    return id;
  };

  const top: string[] = [];
  for (const t of detail.threads) if (t.kind === 'main') top.push(addThread(t, 0));
  for (const t of detail.threads) if (t.kind === 'subagent' && !placed.has(t.id)) top.push(addThread(t, 0));
  const side = detail.threads.filter((t) => t.kind === 'side');
  if (side.length > 0) {
    const id = `${sessionNodeId(sid)}/side`;
    const children = side.map((t) => addThread(t, 0));
    const calls = side.reduce((n, t) => n + t.turns.reduce((m, turn) => m + turn.llmCallIds.length, 0), 0);
    nodes.set(id, {
      id, kind: 'side-group', sessionId: sid, label: 'side requests',
      description: `${calls} call(s)`,
      tooltip: 'Title generation, token counting, prewarm and other calls that are not part of the conversation',
      icon: 'fold', collapsible: 'collapsed', children,
    });
    top.push(id);
  }
  const root = sessionNode(detail.summary, { ...o, children: top });
  nodes.set(root.id, root);
  return { nodes, root };
}

/** A line per cache break, why and what it cost, by `threadId#turnIndex` (one pass over the calls). */
function cacheBreakLines(threads: readonly Thread[]): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (const t of threads) {
    for (const c of t.calls) {
      if (c.cache?.missedTokens === undefined) continue;
      const lost = c.cache.lostUsd === null || c.cache.lostUsd === undefined ? '' : `, $${c.cache.lostUsd.toFixed(4)} lost`;
      const key = `${t.id}#${c.turnIndex}`;
      lines.set(key, [...(lines.get(key) ?? []), `Cache break at call ${c.callId}: ${(c.cache.causes ?? []).map((cause) => cause.replace(/-/g, ' ')).join(', ')}${lost}`]);
    }
  }
  return lines;
}

/**
 * The session's prompt cache in one line. Formatted here, not with src/conversation's words: this
 * module runs in the extension host, whose bundle loads no engine code (docs/decisions.md, decision 41).
 */
function cacheTooltip(cache: CacheSummary | undefined): string[] {
  if (!cache || cache.hitRate === null) return [];
  const breaks = cache.breaks === 0 ? '' : ` · ${cache.breaks} cache break${cache.breaks === 1 ? '' : 's'}, ${cache.lostUsd === null ? 'loss unknown' : `$${cache.lostUsd.toFixed(4)} lost`}`;
  return [`Prompt cache: ${Math.round(cache.hitRate * 100)}% of input read from the cache${breaks}`];
}
