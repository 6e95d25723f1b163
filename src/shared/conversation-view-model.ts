// The conversation webview's view model: what the view draws (blocks per turn, tool calls paired
// with their results, one-line summaries, formatted figures). Types only: the host's engine builds
// it (src/app/conversation-view-builder.ts) and posts it as is; the webview imports nothing else.
import type { Step, Thread, UsageTotals } from '../conversation/types';
import type { ToolDefinition } from '../llm/llm-call';

/** The webview sees tool definitions through this module: it imports nothing outside src/shared. */
export type { ToolDefinition };

export type ViewBlock =
  | { kind: 'text'; role: Step['role']; text: string; alternative?: boolean }
  | { kind: 'thinking'; text: string; redacted: boolean }
  | {
    kind: 'tool'; name: string; callId?: string; summary: string; arguments?: string; output?: string;
    isError: boolean; subagentThreadId?: string; llmCallId?: string;
  }
  | { kind: 'scaffolding'; items: Array<{ label: string; text: string }> }
  | { kind: 'marker'; text: string };

/** One model call of a turn: what its request changed since the thread's previous call, and its cache figures (decision 68). */
export interface ViewCall {
  callId: string;
  /** One line: the gap, new messages, what else changed. */
  changes: string;
  /** One line of cache figures; absent when the call reported no usage. */
  cache?: string;
  /** Set when the call read less from the cache than the previous call left there. */
  cacheBreak?: { causes: string; explanation: string };
  /** Folded unified diffs: the system prompt, changed tool schemas. */
  diffs: Array<{ label: string; text: string }>;
  /** The messages the request added (their first words). */
  added: Array<{ role: string; preview: string }>;
  /** The previous history was not re-sent as it was: where, and what was there. */
  rewritten?: string;
}

export interface ViewTurn {
  index: number;
  prompt: string;
  startedAt: number;
  /** One line: tokens, cache hits, cost, latency. */
  stats: string;
  usage: UsageTotals;
  costUsd: number | null;
  latencyMs: number;
  llmCallIds: string[];
  calls: ViewCall[];
  /** Cache breaks among the calls (for the turn's marker). */
  cacheBreaks: number;
  blocks: ViewBlock[];
}

/** One call on the thread's context chart (decision 69). */
export interface ViewPoint {
  callId: string;
  turnIndex: number;
  /** Input tokens read from the prompt cache. */
  cached: number;
  /** Input tokens not read from the cache (uncached, or written to it). */
  fresh: number;
  output: number;
  /** The thread's cost up to and including this call; null from the first call without a price. */
  costSoFar: number | null;
  /** A cache break's causes, in words. */
  cacheBreak?: string;
  /** The client restarted its history here (compaction, /clear). */
  restart?: boolean;
  /** Subagent threads this call started. */
  subagents?: string[];
}

export interface ViewThread {
  id: string;
  kind: Thread['kind'];
  label: string;
  parentThreadId?: string;
  model?: string;
  systemPrompt?: string;
  tools: string[];
  /** Sent once per thread (not per turn): together often 50–100 KB. */
  toolDefinitions: ToolDefinition[];
  stats: string;
  turns: ViewTurn[];
  /** Each model call of the thread, for its context chart; empty for side threads. */
  points: ViewPoint[];
}

export interface ConversationViewModel {
  sessionId: string;
  title: string;
  client: string;
  stats: string;
  /** The session's prompt cache in one line (hit rate, breaks, money lost); absent without usage. */
  cache?: string;
  threads: ViewThread[];
}

/** A call still streaming, drawn after the last turn of its thread and redrawn as more arrives. */
export interface ViewLiveTurn {
  callId: string;
  /** The thread it most likely continues (same system prompt); absent: not known (shown with the main thread). */
  threadHint?: string;
  startedAt: number;
  /** One line: the model, and the time to the first token once it has come. */
  status: string;
  /** The output so far, mapped like a turn's; a tool call's arguments show as they stream, JSON yet or not. */
  blocks: ViewBlock[];
}
