// Token usage and cost per call, and their sums per turn, thread and session. Providers count
// differently, so each call's usage is first brought to one convention: `inputTokens` is the
// uncached input, cache reads and writes are separate, and output includes reasoning.
import type { LlmCall } from '../llm/llm-call';
import { costOf } from './pricing';
import { emptyUsage, type UsageTotals } from './types';

/**
 * APIs whose input count includes the cached tokens (OpenAI `input_tokens` / `prompt_tokens`
 * with `cached_tokens` inside; Gemini `promptTokenCount` with `cachedContentTokenCount` inside).
 * Anthropic's `input_tokens` already excludes cache reads and writes.
 */
const INPUT_INCLUDES_CACHE: ReadonlySet<LlmCall['api']> = new Set(['openai-responses', 'openai-chat-completions', 'gemini']);
/** Gemini reports thinking (`thoughtsTokenCount`) apart from `candidatesTokenCount`; both are billed as output. */
const REASONING_OUTSIDE_OUTPUT: ReadonlySet<LlmCall['api']> = new Set(['gemini']);

function failed(call: LlmCall): boolean {
  return call.errors.length > 0 || (call.status !== undefined && call.status >= 400);
}

/** The call's usage in the common convention. Token counting calls consume nothing: zero. */
export function callUsage(call: LlmCall): UsageTotals {
  const u = call.usage;
  if (!u || call.side === 'count-tokens') return emptyUsage();
  const cacheRead = u.cacheReadTokens ?? 0;
  const rawInput = u.inputTokens ?? 0;
  const inputTokens = INPUT_INCLUDES_CACHE.has(call.api) ? Math.max(0, rawInput - cacheRead) : rawInput;
  const reasoningTokens = u.reasoningTokens ?? 0;
  const outputTokens = (u.outputTokens ?? 0) + (REASONING_OUTSIDE_OUTPUT.has(call.api) ? reasoningTokens : 0);
  return { inputTokens, outputTokens, cacheReadTokens: cacheRead, cacheWriteTokens: u.cacheWriteTokens ?? 0, reasoningTokens };
}

/**
 * The call's cost in USD; undefined when it cannot be known (unknown model, or a successful
 * call that reported no usage). Token counting is free; a failed call without usage cost nothing.
 */
export function callCost(call: LlmCall): number | undefined {
  if (call.side === 'count-tokens') return 0;
  if (!call.usage) return failed(call) ? 0 : undefined;
  const u = callUsage(call);
  return costOf(call.model, { uncachedInput: u.inputTokens, output: u.outputTokens, cacheRead: u.cacheReadTokens, cacheWrite: u.cacheWriteTokens });
}

export function addUsage(into: UsageTotals, add: UsageTotals): UsageTotals {
  into.inputTokens += add.inputTokens;
  into.outputTokens += add.outputTokens;
  into.cacheReadTokens += add.cacheReadTokens;
  into.cacheWriteTokens += add.cacheWriteTokens;
  into.reasoningTokens += add.reasoningTokens;
  return into;
}

/** Usage and cost of a group of calls. One unpriced call makes the group's cost null. */
export class UsageSum {
  readonly usage = emptyUsage();
  private cost = 0;
  private readonly unpriced = new Set<string>();

  addCall(call: LlmCall): this {
    addUsage(this.usage, callUsage(call));
    const cost = callCost(call);
    if (cost === undefined) this.unpriced.add(call.model ?? '(no model)');
    else this.cost += cost;
    return this;
  }

  addSum(other: UsageSum): this {
    addUsage(this.usage, other.usage);
    this.cost += other.cost;
    for (const m of other.unpriced) this.unpriced.add(m);
    return this;
  }

  get costUsd(): number | null {
    // Rounded to a micro-dollar so that sums do not print floating-point noise.
    return this.unpriced.size > 0 ? null : Math.round(this.cost * 1e6) / 1e6;
  }

  get unpricedModels(): string[] {
    return [...this.unpriced].sort();
  }

  fields(): { usage: UsageTotals; costUsd: number | null; unpricedModels: string[] } {
    return { usage: { ...this.usage }, costUsd: this.costUsd, unpricedModels: this.unpricedModels };
  }
}
