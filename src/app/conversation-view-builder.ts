// SessionDetail → the conversation webview's view model (src/shared/conversation-view-model.ts).
// Pure and JSON-serialisable, so that it is tested without a DOM and posted as is. Runs in the
// engine (src/engine), never in the extension host's main thread or the webview.
import { stepFor } from '../conversation/steps';
import { callsByTurn } from '../conversation/call-insights';
import { cacheLine, cacheSummaryLine, causeWords, changeLine, diffBody } from '../conversation/insight-text';
import type { CallInsight, SessionDetail, Step, Thread, Turn, UsageTotals } from '../conversation/types';
import { copyField, definedField, derivedField, derivedValue } from '../conversation/spilled-text';
import { parseJson } from '../llm/json-value';
import type { ContentBlock } from '../llm/llm-call';
import type { ConversationViewModel, ViewBlock, ViewCall, ViewLiveTurn, ViewPoint, ViewThread, ViewTurn } from '../../src/shared/conversation-view-model';

export function buildViewModel(detail: SessionDetail): ConversationViewModel {
  const s = detail.summary;
  return {
    sessionId: detail.id,
    title: s.title || '(untitled session)',
    client: detail.client,
    stats: `${s.turnCount} turn${s.turnCount === 1 ? '' : 's'} · ${s.callCount} call${s.callCount === 1 ? '' : 's'} · ${formatUsage(s.usage)} · ${formatCost(s.costUsd)}`,
    ...(cacheSummaryLine(s.cache) ? { cache: cacheSummaryLine(s.cache) } : {}),
    threads: detail.threads.map(viewThread),
  };
}

// Long texts of the detail may be spilled (docs/decisions.md, decision 83): they are copied as
// their getters (copyField, derivedField), so that a model holds references, compares by them
// (view-model-diff.ts), and reads a text only when it is posted.

function viewThread(t: Thread): ViewThread {
  const view: ViewThread = {
    id: t.id, kind: t.kind, label: threadLabel(t),
    ...(t.parentThreadId ? { parentThreadId: t.parentThreadId } : {}),
    ...(t.model ? { model: t.model } : {}),
  } as ViewThread;
  if (definedField(t, 'systemPrompt')) copyField(view, 'systemPrompt', t, 'systemPrompt');
  return Object.assign(view, {
    tools: t.tools, toolDefinitions: t.toolDefinitions,
    stats: `${t.turns.length} turn${t.turns.length === 1 ? '' : 's'} · ${formatUsage(t.usage)} · ${formatCost(t.costUsd)}`,
    turns: viewTurns(t),
    points: chartPoints(t),
  });
}

/** The thread's calls as chart points: context split into cached, fresh and output tokens, cost so far, and marks. */
export function chartPoints(t: Thread): ViewPoint[] {
  const spawned = new Map<string, string[]>();
  for (const turn of t.turns) {
    for (const step of turn.steps) {
      if (step.type !== 'tool_call' || !step.subagentThreadId || !step.llmCallId) continue;
      spawned.set(step.llmCallId, [...(spawned.get(step.llmCallId) ?? []), step.subagentThreadId]);
    }
  }
  let cost: number | null = 0;
  return t.calls.map((c) => {
    cost = cost === null || c.costUsd === null ? null : cost + c.costUsd;
    const point: ViewPoint = {
      callId: c.callId, turnIndex: c.turnIndex, cached: c.usage.cacheReadTokens, fresh: c.usage.inputTokens + c.usage.cacheWriteTokens,
      output: c.usage.outputTokens, costSoFar: cost === null ? null : Math.round(cost * 1e6) / 1e6,
    };
    if (c.cache?.missedTokens !== undefined) point.cacheBreak = (c.cache.causes ?? []).map(causeWords).join(', ');
    if (c.changes.history.rewritten?.restarted) point.restart = true;
    const subagents = spawned.get(c.callId);
    if (subagents) point.subagents = subagents;
    return point;
  });
}

function viewTurns(t: Thread): ViewTurn[] {
  const byTurn = callsByTurn(t.calls);
  return t.turns.map((turn) => viewTurn(turn, byTurn.get(turn.index) ?? []));
}

/** New messages listed per call in the view; the turn itself shows them whole. */
const VIEW_ADDED_MESSAGES = 8;

export function viewCall(insight: CallInsight): ViewCall {
  const { changes, cache } = insight;
  const diffs: ViewCall['diffs'] = [];
  if (changes.system && !changes.system.billingHeaderOnly) diffs.push({ label: 'System prompt', text: diffBody(changes.system) });
  for (const t of changes.tools?.changed ?? []) diffs.push({ label: `Tool ${t.name}`, text: diffBody(t.diff) });
  const view: ViewCall = {
    callId: insight.callId, changes: changeLine(insight), diffs,
    added: changes.history.messages.slice(0, VIEW_ADDED_MESSAGES).map((m) => ({ role: m.role, preview: m.preview })),
  };
  if (cache) view.cache = cacheLine(cache);
  if (cache?.missedTokens !== undefined) {
    view.cacheBreak = { causes: (cache.causes ?? []).map(causeWords).join(', '), explanation: cache.explanation ?? '' };
  }
  const rewritten = changes.history.rewritten;
  if (rewritten) {
    view.rewritten = rewritten.restarted
      ? `The history was restarted: none of the previous ${changes.history.previous} entries were re-sent. It began with: ${rewritten.before}`
      : `The history differs from entry ${rewritten.at} of ${changes.history.previous}. It was: ${rewritten.before}${rewritten.after !== undefined ? ` · now: ${rewritten.after}` : ''}`;
  }
  return view;
}

export function threadLabel(t: Thread): string {
  const model = t.model ? ` · ${t.model}` : '';
  if (t.kind === 'main') return `Main${model}`;
  if (t.kind === 'side') return `Side: ${t.sideKind ?? 'other'}${model}`;
  return `Subagent ${t.id}${model}`;
}

function viewTurn(turn: Turn, insights: readonly CallInsight[]): ViewTurn {
  const latencyMs = Math.max(0, turn.endedAt - turn.startedAt);
  const calls = insights.map(viewCall);
  const view: ViewTurn = {
    index: turn.index, prompt: '', startedAt: turn.startedAt,
    stats: turnStats(turn.usage, turn.costUsd, latencyMs, turn.retries),
    usage: turn.usage, costUsd: turn.costUsd, latencyMs, llmCallIds: turn.llmCallIds,
    calls, cacheBreaks: calls.filter((c) => c.cacheBreak).length,
    blocks: viewBlocks(turn.steps),
  };
  copyField(view, 'prompt', turn, 'prompt');
  return view;
}

/** A step's text, or its output, or '' (a scaffolding step has one of them). */
function copyTextOf(target: object, key: string, step: Step): void {
  const from = definedField(step, 'text') ? 'text' : definedField(step, 'output') ? 'output' : undefined;
  if (from) copyField(target, key, step, from);
  else (target as Record<string, unknown>)[key] = '';
}

/**
 * One summary function per tool name, so that derivedValue works each spilled text out once.
 * Names are the client's: past a bound the map starts again (summaries are then worked out anew).
 */
const summaries = new Map<string, (args: string) => string>();
const MAX_SUMMARY_NAMES = 1000;
function summaryOf(name: string): (args: string) => string {
  let summary = summaries.get(name);
  if (!summary) {
    if (summaries.size >= MAX_SUMMARY_NAMES) summaries.clear();
    summaries.set(name, (summary = (args) => toolSummary(name, args)));
  }
  return summary;
}

export function viewBlocks(steps: readonly Step[]): ViewBlock[] {
  const out: ViewBlock[] = [];
  let context: Array<{ label: string; text: string }> = [];
  const flush = () => {
    if (context.length > 0) out.push({ kind: 'scaffolding', items: context });
    context = [];
  };
  const paired = new Set(steps.filter((s) => s.type === 'tool_call' && definedField(s, 'output')).map((s) => s.callId));
  for (const step of steps) {
    if (step.scaffolding) {
      const item = { label: step.scaffoldingKind ?? step.role, text: '' };
      copyTextOf(item, 'text', step);
      context.push(item);
      continue;
    }
    flush();
    if (step.marker === 'history-restart') out.push({ kind: 'marker', text: 'The client restarted its history here (compaction or /clear).' });
    if (step.type === 'text') {
      const block: ViewBlock = { kind: 'text', role: step.role, text: '' };
      copyTextOf(block, 'text', step);
      out.push(step.alternative ? Object.assign(block, { alternative: true }) : block);
    } else if (step.type === 'thinking') {
      const block: ViewBlock = { kind: 'thinking', text: '', redacted: step.redacted === true };
      copyTextOf(block, 'text', step);
      out.push(block);
    } else if (step.type === 'tool_call') {
      const hasArguments = definedField(step, 'arguments');
      const block = {
        kind: 'tool', name: step.name ?? '?', summary: hasArguments ? derivedValue(step, 'arguments', summaryOf(step.name ?? '')) : '',
        isError: step.isError === true,
        ...(step.callId ? { callId: step.callId } : {}),
      } as ViewBlock & { kind: 'tool' };
      if (hasArguments) derivedField(block, 'arguments', step, 'arguments', prettyJson);
      if (definedField(step, 'output')) copyField(block, 'output', step, 'output');
      if (step.subagentThreadId) block.subagentThreadId = step.subagentThreadId;
      if (step.llmCallId) block.llmCallId = step.llmCallId;
      out.push(block);
    } else if (step.type === 'tool_result' && !paired.has(step.callId)) {
      const block = {
        kind: 'tool', name: step.name ?? 'Tool result', summary: '(result without its call)', isError: step.isError === true,
        ...(step.callId ? { callId: step.callId } : {}),
      } as ViewBlock & { kind: 'tool' };
      if (definedField(step, 'output')) copyField(block, 'output', step, 'output');
      else block.output = '';
      out.push(block);
    }
  }
  flush();
  return out;
}

// --- Live: a call still streaming (src/app/live-sessions.ts keeps what has arrived of it) ---

/** What the host has of a call still streaming (LiveSessions' PendingCall). */
export interface LiveCallInput {
  callId: string;
  model?: string;
  startedAt: number;
  firstTokenAt?: number;
  system?: string;
  output: ContentBlock[];
}

export function buildLiveTurn(call: LiveCallInput, detail?: SessionDetail): ViewLiveTurn {
  const steps = call.output.map((block, i) => stepFor({ role: 'assistant', block, messageStart: i === 0, llmCallId: call.callId, at: call.startedAt }, false));
  const threadHint = liveThreadHint(call.system, detail);
  const status = [
    call.model,
    call.firstTokenAt === undefined ? 'waiting for the first token' : `first token after ${formatLatency(Math.max(0, call.firstTokenAt - call.startedAt))}`,
  ].filter((p) => p !== undefined && p !== '').join(' · ');
  return { callId: call.callId, ...(threadHint !== undefined ? { threadHint } : {}), startedAt: call.startedAt, status, blocks: viewBlocks(steps) };
}

/** The thread sent the same system prompt; of several (subagents of one kind), the one active last. */
function liveThreadHint(system: string | undefined, detail: SessionDetail | undefined): string | undefined {
  if (system === undefined || !detail) return undefined;
  const same = detail.threads.filter((t) => t.kind !== 'side' && t.systemPrompt === system);
  return same.sort((a, b) => b.endedAt - a.endedAt)[0]?.id;
}

/** Arguments re-indented when they are JSON; otherwise as they were sent. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const SUMMARY_KEYS = ['command', 'cmd', 'file_path', 'path', 'filePath', 'pattern', 'query', 'url', 'description', 'prompt', 'subject', 'content'];

/** A one-line summary of a tool call's arguments: the most telling field, shortened. */
export function toolSummary(name: string, args: string | undefined, max = 100): string {
  if (args === undefined || args.trim() === '') return '';
  // Bounded: arguments are the model's text, and may nest arbitrarily deep.
  const read = parseJson(args);
  if (!read.ok) return shorten(args, max);
  const parsed = read.value;
  if (typeof parsed === 'string') return shorten(parsed, max);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return shorten(JSON.stringify(parsed), max);
  const o = parsed as Record<string, unknown>;
  const value = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(' ');
    return undefined;
  };
  if (/^(todowrite|update_plan)$/i.test(name)) {
    const list = Array.isArray(o.todos) ? o.todos : Array.isArray(o.plan) ? o.plan : undefined;
    if (list) return `${list.length} item${list.length === 1 ? '' : 's'}`;
  }
  for (const key of SUMMARY_KEYS) {
    const v = value(o[key]);
    if (v !== undefined && v.trim() !== '') return shorten(v, max);
  }
  for (const v of Object.values(o)) {
    const s = value(v);
    if (s !== undefined && s.trim() !== '') return shorten(s, max);
  }
  return shorten(JSON.stringify(o), max);
}

export function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatUsage(u: UsageTotals): string {
  return `${formatTokens(u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens)} in · ${formatTokens(u.outputTokens)} out`;
}

export function formatCost(cost: number | null): string {
  if (cost === null) return 'cost unknown';
  return cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
}

export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Cache hits: the share of the prompt read from the cache. */
export function cacheHitRate(u: UsageTotals): number | undefined {
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return prompt === 0 ? undefined : u.cacheReadTokens / prompt;
}

export function turnStats(u: UsageTotals, cost: number | null, latencyMs: number, retries = 0): string {
  const hit = cacheHitRate(u);
  const parts = [formatUsage(u)];
  if (hit !== undefined) parts.push(`${Math.round(hit * 100)}% cached`);
  parts.push(formatCost(cost), formatLatency(latencyMs));
  if (retries > 0) parts.push(`${retries} retr${retries === 1 ? 'y' : 'ies'}`);
  return parts.join(' · ');
}
