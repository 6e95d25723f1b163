// The assembler's output contract: plain, JSON-serialisable data that the CLI prints and the
// extension and webview read. Fields may be added; existing ones are never renamed or dropped.
// Times (`startedAt`, `endedAt`) are whole milliseconds since the Unix epoch.
import type { ClientKind, Provider, SideKind, ToolDefinition } from '../llm/llm-call';

/**
 * Token counts. `inputTokens` is the *uncached* input, so the four main counters add up to what
 * the provider billed as prompt + completion (OpenAI and Gemini report input including cached
 * tokens; the assembler subtracts them, see usage.ts). `reasoningTokens` is part of output.
 */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/** Cost of a group of calls. `costUsd` is null as soon as one call in the group has no price. */
export interface CostFields {
  costUsd: number | null;
  /** Models (as sent) whose calls could not be priced; empty when `costUsd` is a number. */
  unpricedModels: string[];
}

export type ThreadKind = 'main' | 'subagent' | 'side';
export type StepType = 'text' | 'thinking' | 'tool_call' | 'tool_result';
export type StepRole = 'system' | 'user' | 'assistant' | 'tool';

export interface Step {
  type: StepType;
  role: StepRole;
  text?: string;
  /** Tool name (on tool_call, and on the paired tool_result). */
  name?: string;
  /** Tool call id, shared by a tool_call and its tool_result. */
  callId?: string;
  /** Exact JSON (or custom-tool) text of a tool call's input. */
  arguments?: string;
  /** On tool_call: the paired result's output; on tool_result: the output itself. */
  output?: string;
  isError?: boolean;
  /** Context the client injected (reminders, environment, caveats): shown folded. */
  scaffolding?: boolean;
  /** Which pattern made it scaffolding, e.g. 'system-reminder'. */
  scaffoldingKind?: string;
  /** Thinking that was redacted or sent encrypted by the provider. */
  redacted?: boolean;
  /** The LlmCall that first carried this content. */
  llmCallId?: string;
  /** On an Agent/Task tool_call: the thread of the subagent it started. */
  subagentThreadId?: string;
  /** A different answer to a request that was already answered (a retry that diverged). */
  alternative?: boolean;
  /** Marks where the client restarted its history (compaction, /clear) inside this thread. */
  marker?: 'history-restart';
  /** Image media type, or the original type of a block the dissector did not know. */
  detail?: string;
}

export interface Turn {
  /** Position in its thread, from 0. */
  index: number;
  /** The user's words that opened the turn ('' for a preamble without a real prompt). */
  prompt: string;
  startedAt: number;
  endedAt: number;
  usage: UsageTotals;
  costUsd: number | null;
  unpricedModels: string[];
  steps: Step[];
  /** Every model call that contributed to this turn, retries included (they cost tokens too). */
  llmCallIds: string[];
  /** Calls that re-sent a request already seen (kept once in the steps, counted in usage). */
  retries: number;
  models: string[];
  /** On a side thread's turn (one call each): how that call ran. */
  outcome?: CallOutcome;
}

/** Lines of a text diff, each prefixed ' ' (context), '-' (removed) or '+' (added), as in a unified diff. */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

export interface TextChange {
  added: number;
  removed: number;
  hunks: DiffHunk[];
  /** The diff was too large to keep whole: hunks past the limit are left out. */
  truncated?: boolean;
}

/** A message the call's request added to the history (its first words; `blocks` content blocks). */
export interface NewMessage {
  role: StepRole;
  preview: string;
  blocks: number;
}

/**
 * What a call's request changed against the previous call of its thread (decision 68). Absent
 * parts did not change. History counts are content blocks (entries), in the thread's order.
 */
export interface CallChanges {
  /** Absent for the first call of a thread. */
  previousCallId?: string;
  /** From the previous call's end to this call's start. */
  gapMs?: number;
  model?: { before?: string; after?: string };
  /** `billingHeaderOnly`: only Claude Code's per-request billing line changed, which the cache does not key on. */
  system?: TextChange & { billingHeaderOnly?: boolean };
  tools?: { added: string[]; removed: string[]; changed: Array<{ name: string; diff: TextChange }>; reordered: boolean };
  /** Request options whose value differs (`before` or `after` absent: not sent). */
  options?: Array<{ name: string; before?: unknown; after?: unknown }>;
  /** Anthropic breakpoints on tools and system (where the cache prefix begins), as `tools[3]`, `system[1] 1h`. */
  cacheMarkers?: { before: string[]; after: string[] };
  history: {
    /** Entries of the previous call's request and answer that this request re-sent unchanged, from the start. */
    kept: number;
    /** Entries of the previous call's request and answer. */
    previous: number;
    /** Entries after `kept` that this request added. */
    added: number;
    /** The first eight of them. */
    messages: NewMessage[];
    /** The previous history was not re-sent as it was from entry `at` on: edited, dropped or compacted. */
    rewritten?: { at: number; before: string; after?: string; restarted: boolean };
  };
}

export type CacheBreakCause =
  | 'first-call' | 'model-switched' | 'tools-changed' | 'system-changed' | 'marker-moved' | 'history-edited'
  | 'lifetime-passed' | 'unexplained';

/** A call's prompt-cache figures, from the provider's own usage fields (decision 68). */
export interface CallCache {
  /** Input tokens in all: uncached + read from the cache + written to it. */
  promptTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  uncachedTokens: number;
  /** What the previous call of the thread left in the cache that this call could have read. */
  expectedReadTokens?: number;
  /** Tokens this call did not read from the cache that it could have (a cache break when present). */
  missedTokens?: number;
  /** Why, most likely first; the first call of a thread has 'first-call'. */
  causes?: CacheBreakCause[];
  /** One sentence for the user. */
  explanation?: string;
  /** What the missed tokens cost over reading them from the cache; null when the model has no price. */
  lostUsd?: number | null;
}

/** How a call ran and ended (decision 72); absent fields were not seen on the wire. */
export interface CallOutcome {
  endedAt?: number;
  /** From the request's start to the first chunk of the answer. */
  timeToFirstChunkMs?: number;
  /** The provider's finish reason as sent (`end_turn`, `tool_use`, `stop`, `completed`, …). */
  stopReason?: string;
  status?: number;
  /** The first problem the dissector recorded (an error event, an HTTP error, a cut-off stream). */
  error?: string;
  /** Cut off before its terminal event. */
  unfinished?: boolean;
  responseId?: string;
  /** The model the answer names, when it does. */
  responseModel?: string;
  /** Answered as a stream (SSE or WebSocket). */
  stream?: boolean;
  /** The request options the GenAI conventions name, when sent. */
  params?: { maxTokens?: number; temperature?: number; topP?: number; topK?: number };
}

export interface CallInsight {
  callId: string;
  /** Index of the turn (in its thread) that holds the call. */
  turnIndex: number;
  startedAt: number;
  model?: string;
  /** The call's own tokens and cost (a turn's are the sums of its calls'). */
  usage: UsageTotals;
  costUsd: number | null;
  changes: CallChanges;
  /** Absent when the call reported no usage. */
  cache?: CallCache;
  outcome: CallOutcome;
}

/** A session's prompt-cache figures over its conversation calls (side calls excluded). */
export interface CacheSummary {
  promptTokens: number;
  cacheReadTokens: number;
  /** cacheReadTokens / promptTokens; null with no prompt tokens. */
  hitRate: number | null;
  breaks: number;
  missedTokens: number;
  /** Null when a break's model has no price. */
  lostUsd: number | null;
}

export interface Thread {
  id: string;
  kind: ThreadKind;
  /** For side threads: what kind of side call they hold. */
  sideKind?: SideKind;
  parentThreadId?: string;
  parentToolCallId?: string;
  /** Tool calls that could have started this subagent when content could not tell them apart. */
  parentToolCallCandidates?: string[];
  model?: string;
  systemPrompt?: string;
  tools: string[];
  /** The tools' definitions as last sent, one per name, in the order of `tools`. */
  toolDefinitions: ToolDefinition[];
  turns: Turn[];
  usage: UsageTotals;
  costUsd: number | null;
  unpricedModels: string[];
  startedAt: number;
  endedAt: number;
  /** Independent histories in this thread: 1, plus one per restart (compaction, /clear). */
  segments: number;
  /** Each model call of a conversation thread in order, with what changed and its cache figures (none on side threads). */
  calls: CallInsight[];
}

export interface SessionSummary {
  id: string;
  client: ClientKind;
  provider: Provider;
  model?: string;
  title: string;
  startedAt: number;
  endedAt: number;
  /** All threads, side threads included. */
  threadCount: number;
  /** Turns of the main thread (the user's prompts). */
  turnCount: number;
  usage: UsageTotals;
  costUsd: number | null;
  unpricedModels: string[];
  callCount: number;
  cache: CacheSummary;
  /** Where the id came from: a wire header/body field, or 'heuristic' for an anonymous session. */
  idSource: string;
  assemblerVersion: number;
}

export interface SessionDetail {
  id: string;
  client: ClientKind;
  provider: Provider;
  summary: SessionSummary;
  threads: Thread[];
  /** Other session ids (wire ids) that were recognised as part of this one. */
  mergedSessionIds: string[];
  assemblerVersion: number;
}

export function emptyUsage(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}
