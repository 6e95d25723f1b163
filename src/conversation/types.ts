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
