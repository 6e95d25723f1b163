// How one model call ran and ended, as the OTLP export and `show --json` report it: its own
// timing (end, time to the first chunk), why it stopped, and what went wrong (decision 72).
import type { LlmCall } from '../llm/llm-call';
import type { CallOutcome } from './types';

/** The request options the GenAI conventions name (`gen_ai.request.*`), by their wire names per API. */
const PARAM_NAMES: Record<keyof NonNullable<CallOutcome['params']>, string[]> = {
  maxTokens: ['max_tokens', 'max_output_tokens', 'max_completion_tokens', 'maxOutputTokens'],
  temperature: ['temperature'],
  topP: ['top_p', 'topP'],
  topK: ['top_k', 'topK'],
};

export function callOutcome(call: LlmCall): CallOutcome {
  const outcome: CallOutcome = {};
  if (call.endedAt !== undefined) outcome.endedAt = Math.round(call.endedAt);
  if (call.firstTokenAt !== undefined) outcome.timeToFirstChunkMs = Math.max(0, Math.round(call.firstTokenAt - call.startedAt));
  if (call.stopReason !== undefined) outcome.stopReason = call.stopReason;
  if (call.status !== undefined) outcome.status = call.status;
  if (call.errors.length > 0) outcome.error = call.errors[0];
  if (call.unfinished) outcome.unfinished = true;
  if (call.identity.responseId !== undefined) outcome.responseId = call.identity.responseId;
  if (call.responseModel !== undefined) outcome.responseModel = call.responseModel;
  outcome.stream = call.transport !== 'http';
  const params = requestParams(call.options);
  if (params) outcome.params = params;
  return outcome;
}

function requestParams(options: Record<string, unknown> | undefined): CallOutcome['params'] {
  if (!options) return undefined;
  const params: NonNullable<CallOutcome['params']> = {};
  for (const [key, names] of Object.entries(PARAM_NAMES) as Array<[keyof typeof PARAM_NAMES, string[]]>) {
    for (const name of names) {
      const value = Object.hasOwn(options, name) ? options[name] : undefined;
      if (typeof value === 'number' && Number.isFinite(value)) {
        params[key] = value;
        break;
      }
    }
  }
  // Gemini nests its options under generationConfig.
  const generation = Object.hasOwn(options, 'generationConfig') ? options.generationConfig : undefined;
  if (generation && typeof generation === 'object' && Object.keys(params).length === 0) return requestParams(generation as Record<string, unknown>);
  return Object.keys(params).length > 0 ? params : undefined;
}
