// A session as OpenTelemetry GenAI spans (docs/decisions.md, decision 72; docs/otlp.md): one trace
// per session; an `invoke_agent` span per thread (a thread idle for IDLE_MS and then resumed
// gets another); under it a `chat` span per model call and an `execute_tool` span per tool call,
// from the answer that asked for it to the request that carried its result; a subagent's agent
// span sits under the tool call that started it. Pure: the same session gives the same spans.
//
// Each span says when it became complete (`readyAt`): a call when it ended, a tool call when the
// call carrying its result ended, an agent span IDLE_MS after its thread's last call. The live
// export sends spans by that time, once each.
import type { CallInsight, SessionDetail, Step, Thread, Turn, UsageTotals } from '../conversation/types';
import { ERROR_TYPE, GEN_AI, OPERATION, providerName } from './genai-conventions';
import { spanIdFor, traceIdFor } from './span-ids';
import { inputMessages, outputMessages, systemInstructions, toolDefinitions, type ContentLimit } from './genai-content';

/** A thread quiet this long is done: its agent span is complete (Anthropic's cache lifetime, too). */
export const IDLE_MS = 5 * 60_000;

export type AttributeValue = string | number | boolean | string[];

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'client' | 'internal';
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: 'unset' | 'error'; message?: string };
  /** When the span became complete; the live export sends it after that. */
  readyAt: number;
  /** The client that made the traffic: the span's resource names it. */
  client: string;
  /** `chat` spans' figures, for the metrics. */
  call?: { usage: UsageTotals; durationMs?: number; timeToFirstChunkMs?: number; model?: string; errorType?: string };
}

export interface SpanOptions {
  /** Prompts, answers, system instructions, tool definitions, arguments and results (opt-in). */
  content: boolean;
  /** Send the deprecated `gen_ai.system` beside `gen_ai.provider.name`. */
  legacyNames: boolean;
  /** Only spans whose `readyAt` is in (after, upTo]; content is built for those only. */
  after?: number;
  upTo?: number;
  contentLimit?: ContentLimit;
  /** A thread quiet this long is done (IDLE_MS unless set). */
  idleMs?: number;
}

interface Burst {
  spanId: string;
  calls: CallInsight[];
  startMs: number;
  endMs: number;
}

export function sessionSpans(detail: SessionDetail, options: SpanOptions): SpanRecord[] {
  const after = options.after ?? -Infinity;
  const upTo = options.upTo ?? Infinity;
  const idleMs = options.idleMs ?? IDLE_MS;
  const wanted = (readyAt: number) => readyAt > after && readyAt <= upTo;
  const traceId = traceIdFor(detail.id);
  const base: Record<string, AttributeValue> = {
    [GEN_AI.providerName]: providerName(detail.provider),
    [GEN_AI.conversationId]: detail.id,
  };
  if (options.legacyNames) base[GEN_AI.system] = providerName(detail.provider);
  const spans: SpanRecord[] = [];
  const toolSpanIds = new Map<string, string>();
  const burstsOf = new Map<string, Burst[]>();
  for (const thread of detail.threads) {
    if (thread.kind === 'side') continue;
    burstsOf.set(thread.id, bursts(detail.id, thread, idleMs));
    for (const step of allSteps(thread)) {
      if (step.type === 'tool_call' && step.callId) toolSpanIds.set(step.callId, spanIdFor(detail.id, 'tool', `${thread.id}/${step.callId}`));
    }
  }
  const mainBursts = burstsOf.get(detail.threads.find((t) => t.kind === 'main')?.id ?? '') ?? [];
  const common = { traceId, client: detail.client };

  for (const thread of detail.threads) {
    const threadBursts = burstsOf.get(thread.id);
    if (!threadBursts) {
      for (const turn of thread.turns) {
        const span = sideCallSpan(detail, thread, turn, mainBursts, base, common);
        if (span && wanted(span.readyAt)) spans.push(span);
      }
      continue;
    }
    const burstOfCall = new Map<string, Burst>();
    for (const burst of threadBursts) for (const call of burst.calls) burstOfCall.set(call.callId, burst);
    const parentTool = thread.parentToolCallId !== undefined ? toolSpanIds.get(thread.parentToolCallId) : undefined;
    for (const burst of threadBursts) {
      const readyAt = burst.endMs + idleMs;
      if (!wanted(readyAt)) continue;
      const usage = sumUsage(burst.calls);
      const attributes: Record<string, AttributeValue> = {
        ...base, [GEN_AI.operationName]: OPERATION.invokeAgent, [GEN_AI.agentName]: agentName(detail, thread), [GEN_AI.agentId]: thread.id,
        ...usageAttributes(usage), 'llm_capture.thread.kind': thread.kind, 'llm_capture.calls': burst.calls.length,
      };
      if (thread.model) attributes[GEN_AI.requestModel] = thread.model;
      if (options.content) Object.assign(attributes, threadContent(thread, options.contentLimit));
      spans.push({
        ...common, spanId: burst.spanId, parentSpanId: parentTool, name: `${OPERATION.invokeAgent} ${agentName(detail, thread)}`, kind: 'internal',
        startMs: burst.startMs, endMs: burst.endMs, attributes, status: { code: 'unset' }, readyAt,
      });
    }
    for (const call of thread.calls) {
      const burst = burstOfCall.get(call.callId)!;
      const span = callSpan(detail, thread, call, burst.spanId, base, common, options, wanted);
      if (span) spans.push(span);
    }
    spans.push(...toolSpans(thread, burstOfCall, toolSpanIds, base, common, options, wanted, idleMs));
  }
  return spans;
}

/** A thread's calls cut where it was quiet for `idleMs`: each run is one agent invocation. */
function bursts(sessionId: string, thread: Thread, idleMs: number): Burst[] {
  const out: Burst[] = [];
  let current: Burst | undefined;
  for (const call of [...thread.calls].sort((a, b) => a.startedAt - b.startedAt)) {
    const end = call.outcome.endedAt ?? call.startedAt;
    if (!current || call.startedAt - current.endMs >= idleMs) {
      current = { spanId: spanIdFor(sessionId, 'agent', `${thread.id}@${call.callId}`), calls: [], startMs: call.startedAt, endMs: end };
      out.push(current);
    }
    current.calls.push(call);
    current.endMs = Math.max(current.endMs, end);
  }
  return out;
}

function callSpan(detail: SessionDetail, thread: Thread, call: CallInsight, parent: string, base: Record<string, AttributeValue>,
  common: { traceId: string; client: string }, options: SpanOptions, wanted: (readyAt: number) => boolean): SpanRecord | undefined {
  const readyAt = call.outcome.endedAt ?? call.startedAt;
  if (!wanted(readyAt)) return undefined;
  const attributes = callAttributes(detail, call.model ?? thread.model, call.usage, call.outcome, base);
  attributes['llm_capture.call.id'] = call.callId;
  if (call.costUsd !== null) attributes['llm_capture.cost.usd'] = call.costUsd;
  if (call.cache?.missedTokens !== undefined) {
    attributes['llm_capture.cache.missed_tokens'] = call.cache.missedTokens;
    attributes['llm_capture.cache.causes'] = call.cache.causes ?? [];
  }
  if (options.content) {
    Object.assign(attributes, threadContent(thread, options.contentLimit));
    attributes[GEN_AI.inputMessages] = inputMessages(thread, call.callId, options.contentLimit);
    attributes[GEN_AI.outputMessages] = outputMessages(thread, call.callId, call.outcome.stopReason, options.contentLimit);
  }
  return finishCallSpan({ ...common, spanId: spanIdFor(detail.id, 'call', call.callId), parentSpanId: parent, readyAt }, operationFor(detail), call.model ?? thread.model,
    call.startedAt, call.usage, call.outcome, attributes);
}

/** A side call (a title, a token count): its own `chat` span under the main thread's agent span of the moment. */
function sideCallSpan(detail: SessionDetail, thread: Thread, turn: Turn, mainBursts: Burst[], base: Record<string, AttributeValue>,
  common: { traceId: string; client: string }): SpanRecord | undefined {
  const callId = turn.llmCallIds[0];
  const outcome = turn.outcome;
  if (callId === undefined || !outcome) return undefined;
  const readyAt = outcome.endedAt ?? turn.startedAt;
  const model = turn.models[0] ?? thread.model;
  const attributes = callAttributes(detail, model, turn.usage, outcome, base);
  attributes['llm_capture.call.id'] = callId;
  attributes['llm_capture.side'] = thread.sideKind ?? 'other';
  if (turn.costUsd !== null) attributes['llm_capture.cost.usd'] = turn.costUsd;
  // The main thread's invocation under way then; a title asked for before the first call goes under the first.
  const parent = [...mainBursts].reverse().find((b) => b.startMs <= turn.startedAt) ?? mainBursts[0];
  return finishCallSpan({ ...common, spanId: spanIdFor(detail.id, 'call', callId), parentSpanId: parent?.spanId, readyAt }, operationFor(detail), model,
    turn.startedAt, turn.usage, outcome, attributes);
}

function callAttributes(detail: SessionDetail, model: string | undefined, usage: UsageTotals, outcome: CallInsight['outcome'],
  base: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { ...base, [GEN_AI.operationName]: operationFor(detail), ...usageAttributes(usage) };
  if (model) attributes[GEN_AI.requestModel] = model;
  if (outcome.stopReason) attributes[GEN_AI.responseFinishReasons] = [outcome.stopReason];
  if (outcome.responseId) attributes[GEN_AI.responseId] = outcome.responseId;
  if (outcome.responseModel) attributes[GEN_AI.responseModel] = outcome.responseModel;
  if (outcome.timeToFirstChunkMs !== undefined) attributes[GEN_AI.responseTimeToFirstChunk] = outcome.timeToFirstChunkMs / 1000;
  if (outcome.stream !== undefined) attributes[GEN_AI.requestStream] = outcome.stream;
  const params = outcome.params ?? {};
  if (params.maxTokens !== undefined) attributes[GEN_AI.requestMaxTokens] = params.maxTokens;
  if (params.temperature !== undefined) attributes[GEN_AI.requestTemperature] = params.temperature;
  if (params.topP !== undefined) attributes[GEN_AI.requestTopP] = params.topP;
  if (params.topK !== undefined) attributes[GEN_AI.requestTopK] = params.topK;
  return attributes;
}

function finishCallSpan(ids: { traceId: string; client: string; spanId: string; parentSpanId?: string; readyAt: number }, operation: string,
  model: string | undefined, startedAt: number, usage: UsageTotals, outcome: CallInsight['outcome'], attributes: Record<string, AttributeValue>): SpanRecord {
  const errorType = callErrorType(outcome);
  if (errorType) attributes[ERROR_TYPE] = errorType;
  const endMs = Math.max(startedAt, outcome.endedAt ?? startedAt);
  return {
    ...ids, name: model ? `${operation} ${model}` : operation, kind: 'client', startMs: startedAt, endMs, attributes,
    status: errorType ? { code: 'error', message: outcome.error ?? `HTTP ${outcome.status}` } : { code: 'unset' },
    call: { usage, durationMs: outcome.endedAt !== undefined ? endMs - startedAt : undefined, timeToFirstChunkMs: outcome.timeToFirstChunkMs, model, errorType },
  };
}

function callErrorType(outcome: CallInsight['outcome']): string | undefined {
  if (outcome.status !== undefined && outcome.status >= 400) return String(outcome.status);
  if (outcome.unfinished) return 'unfinished';
  if (outcome.error) return 'error';
  return undefined;
}

function toolSpans(thread: Thread, burstOfCall: Map<string, Burst>, toolSpanIds: Map<string, string>,
  base: Record<string, AttributeValue>, common: { traceId: string; client: string }, options: SpanOptions, wanted: (readyAt: number) => boolean, idleMs: number): SpanRecord[] {
  const callById = new Map(thread.calls.map((c) => [c.callId, c]));
  const results = new Map<string, Step>();
  for (const step of allSteps(thread)) if (step.type === 'tool_result' && step.callId && !results.has(step.callId)) results.set(step.callId, step);
  const spans: SpanRecord[] = [];
  // A tool call re-sent in a later request in another form (a client that re-serialises its input) is
  // a second step with the same id: the span is the first one's, so that its id stays one span.
  const seen = new Set<string>();
  for (const step of allSteps(thread)) {
    if (step.type !== 'tool_call' || !step.callId || seen.has(step.callId)) continue;
    seen.add(step.callId);
    const asking = step.llmCallId !== undefined ? callById.get(step.llmCallId) : undefined;
    const burst = asking ? burstOfCall.get(asking.callId) : undefined;
    if (!asking || !burst) continue;
    const result = results.get(step.callId);
    const carrying = result?.llmCallId !== undefined ? callById.get(result.llmCallId) : undefined;
    const startMs = asking.outcome.endedAt ?? asking.startedAt;
    const endMs = Math.max(startMs, carrying ? carrying.startedAt : burst.endMs);
    const readyAt = carrying ? carrying.outcome.endedAt ?? carrying.startedAt : burst.endMs + idleMs;
    if (!wanted(readyAt)) continue;
    const name = step.name ?? 'tool';
    const attributes: Record<string, AttributeValue> = {
      ...base, [GEN_AI.operationName]: OPERATION.executeTool, [GEN_AI.toolName]: name, [GEN_AI.toolCallId]: step.callId,
      [GEN_AI.toolType]: name.startsWith('mcp__') ? 'extension' : 'function',
    };
    if (!carrying) attributes['llm_capture.tool.result_seen'] = false;
    if (step.subagentThreadId) attributes['llm_capture.subagent.thread'] = step.subagentThreadId;
    if (options.content) {
      if (step.arguments !== undefined) attributes[GEN_AI.toolCallArguments] = clip(step.arguments, options.contentLimit);
      if (result?.output !== undefined) attributes[GEN_AI.toolCallResult] = clip(result.output, options.contentLimit);
    }
    const failed = result?.isError === true;
    if (failed) attributes[ERROR_TYPE] = 'tool_error';
    spans.push({
      ...common, spanId: toolSpanIds.get(step.callId)!, parentSpanId: burst.spanId, name: `${OPERATION.executeTool} ${name}`, kind: 'internal',
      startMs, endMs, attributes, status: failed ? { code: 'error', message: 'the tool reported an error' } : { code: 'unset' }, readyAt,
    });
  }
  return spans;
}

function threadContent(thread: Thread, limit: ContentLimit | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (thread.systemPrompt) out[GEN_AI.systemInstructions] = systemInstructions(thread.systemPrompt, limit);
  if (thread.toolDefinitions.length > 0) out[GEN_AI.toolDefinitions] = toolDefinitions(thread.toolDefinitions, limit);
  return out;
}

function clip(text: string, limit: ContentLimit | undefined): string {
  const max = limit?.maxChars ?? Infinity;
  return text.length > max ? text.slice(0, max) : text;
}

function allSteps(thread: Thread): Step[] {
  return thread.turns.flatMap((t) => t.steps);
}

function agentName(detail: SessionDetail, thread: Thread): string {
  return thread.kind === 'main' ? detail.client : `${detail.client} subagent`;
}

function operationFor(detail: SessionDetail): string {
  return detail.provider === 'google' ? OPERATION.generateContent : OPERATION.chat;
}

function sumUsage(calls: readonly CallInsight[]): UsageTotals {
  const sum: UsageTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  for (const c of calls) {
    sum.inputTokens += c.usage.inputTokens;
    sum.outputTokens += c.usage.outputTokens;
    sum.cacheReadTokens += c.usage.cacheReadTokens;
    sum.cacheWriteTokens += c.usage.cacheWriteTokens;
    sum.reasoningTokens += c.usage.reasoningTokens;
  }
  return sum;
}

/**
 * The conventions count cached input inside `gen_ai.usage.input_tokens`; ours (`show --json`)
 * counts it apart, so the input here is their sum.
 */
function usageAttributes(usage: UsageTotals): Record<string, number> {
  const out: Record<string, number> = {
    [GEN_AI.usageInputTokens]: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    [GEN_AI.usageOutputTokens]: usage.outputTokens,
    [GEN_AI.usageCacheReadInputTokens]: usage.cacheReadTokens,
    [GEN_AI.usageCacheCreationInputTokens]: usage.cacheWriteTokens,
  };
  if (usage.reasoningTokens > 0) out[GEN_AI.usageReasoningOutputTokens] = usage.reasoningTokens;
  return out;
}
