// What a request asks for besides its content: the options (max tokens, temperature, reasoning
// effort, tool choice, …) and, for Anthropic, where its cache_control breakpoints sit. Read after
// each dissector, so the analysis of what changed between calls (src/conversation/call-changes.ts)
// can compare them, and name a moved breakpoint as a prompt-cache break (docs/decisions.md, decision 68).
import { asArray, asString, isRecord, type JsonRecord } from './json-value';
import type { ApiKind, CacheMarker, LlmCall } from './llm-call';

/**
 * The fields that are content or identity, compared elsewhere (model, system, tools, messages)
 * or not options at all (ids, metadata, the frame type): everything else is an option.
 */
const NOT_OPTIONS: Record<ApiKind, ReadonlySet<string>> = {
  'anthropic-messages': new Set(['model', 'messages', 'system', 'tools', 'metadata']),
  'openai-responses': new Set([
    'type', 'model', 'input', 'instructions', 'tools', 'prompt_cache_key', 'client_metadata', 'metadata', 'previous_response_id',
    'user', 'safety_identifier', 'conversation',
  ]),
  'openai-chat-completions': new Set(['model', 'messages', 'tools', 'functions', 'prompt_cache_key', 'metadata', 'user', 'safety_identifier']),
  gemini: new Set(['contents', 'systemInstruction', 'system_instruction', 'tools', 'model', 'labels', 'generateContentRequest']),
};

/** An option's value is kept up to this much JSON; larger values keep their size only. */
const OPTION_MAX_CHARS = 2000;

export function readRequestOptions(call: LlmCall, request: JsonRecord): void {
  const skip = NOT_OPTIONS[call.api];
  const kept: Array<[string, unknown]> = [];
  for (const [name, value] of Object.entries(request)) {
    if (skip.has(name) || value === undefined) continue;
    const json = JSON.stringify(value) ?? 'null';
    kept.push([name, json.length <= OPTION_MAX_CHARS ? value : `(${json.length} characters of JSON, not kept)`]);
  }
  // fromEntries makes own properties of every name, `__proto__` included (an assignment would set the prototype).
  if (kept.length > 0) call.options = Object.fromEntries(kept);
  if (call.api === 'anthropic-messages') {
    const markers = anthropicCacheMarkers(request);
    if (markers.length > 0) call.cacheMarkers = markers;
  }
}

/**
 * Anthropic's explicit breakpoints, in the order the cache reads the prompt: tools, then system,
 * then messages (https://docs.claude.com/en/docs/build-with-claude/prompt-caching).
 */
function anthropicCacheMarkers(request: JsonRecord): CacheMarker[] {
  const markers: CacheMarker[] = [];
  const add = (where: CacheMarker['where'], index: number, block: number | undefined, raw: unknown): void => {
    if (!isRecord(raw)) return;
    const marker: CacheMarker = { where, index };
    if (block !== undefined) marker.block = block;
    const ttl = asString(raw.ttl);
    if (ttl !== undefined) marker.ttl = ttl;
    markers.push(marker);
  };
  (asArray(request.tools) ?? []).forEach((tool, i) => add('tools', i, undefined, isRecord(tool) ? tool.cache_control : undefined));
  (asArray(request.system) ?? []).forEach((block, i) => add('system', i, undefined, isRecord(block) ? block.cache_control : undefined));
  (asArray(request.messages) ?? []).forEach((message, m) => {
    const content = isRecord(message) ? asArray(message.content) : undefined;
    content?.forEach((block, b) => add('messages', m, b, isRecord(block) ? block.cache_control : undefined));
  });
  return markers;
}
