// The request side of OpenAI Chat Completions (Aider, OpenCode through OpenRouter or LiteLLM, and
// any OpenAI-compatible gateway), plus the usage object, which gateways extend in their own ways.
import { asRole, imageBlock, joinTexts, toolCall, toolResult, unknownBlock, unknownRoleMessage } from './content-blocks';
import { asArray, asNumber, asRecord, asString, isRecord, recordsOf, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, Message, ToolDefinition, Usage } from './llm-call';

function partBlock(part: unknown): ContentBlock {
  if (typeof part === 'string') return { type: 'text', text: part };
  if (!isRecord(part)) return unknownBlock(typeof part, part);
  const type = asString(part.type) ?? '';
  if (type === 'text') return { type: 'text', text: asString(part.text) ?? '' };
  if (type === 'image_url') return imageBlock(undefined, asString(asRecord(part.image_url)?.url) ?? asString(part.image_url));
  return unknownBlock(type, part);
}

export function chatContent(content: unknown): ContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return (asArray(content) ?? [content]).map(partBlock);
}

/** `function.arguments` is a JSON string on the wire; some gateways send an object instead. */
export function chatToolCall(raw: JsonRecord): ContentBlock {
  const fn = asRecord(raw.function) ?? {};
  const args = typeof fn.arguments === 'string' ? fn.arguments : textOf(fn.arguments ?? '');
  return toolCall(asString(raw.id) ?? '', asString(fn.name) ?? '', args, 'function');
}

/** Reasoning text: `reasoning_content` (DeepSeek, LiteLLM, vLLM) or `reasoning` (OpenRouter). */
export function reasoningOf(message: JsonRecord): string | undefined {
  return asString(message.reasoning_content) ?? asString(message.reasoning);
}

function chatMessage(raw: JsonRecord, index: number, errors: string[]): Message {
  // The legacy `function` role is a tool result keyed by name.
  const role = raw.role === 'function' ? 'tool' : asRole(raw.role);
  if (!role) {
    errors.push(`messages[${index}] has an unknown role ${JSON.stringify(raw.role)}; kept raw.`);
    return unknownRoleMessage(String(raw.role), raw);
  }
  if (role === 'tool') {
    const callId = asString(raw.tool_call_id) ?? asString(raw.name) ?? '';
    const output = joinTexts(chatContent(raw.content).map((b) => (b.type === 'text' ? b.text : textOf(b))));
    return { role, content: [toolResult(callId, output, 'function')] };
  }
  const content: ContentBlock[] = [];
  const reasoning = reasoningOf(raw);
  if (reasoning) content.push({ type: 'thinking', text: reasoning });
  content.push(...chatContent(raw.content));
  content.push(...recordsOf(raw.tool_calls).map(chatToolCall));
  if (isRecord(raw.function_call)) content.push(chatToolCall({ function: raw.function_call }));
  return { role, content };
}

export function chatMessages(messages: unknown[], errors: string[]): Message[] {
  return messages.map((raw, i) => {
    if (isRecord(raw)) return chatMessage(raw, i, errors);
    errors.push(`messages[${i}] is not an object.`);
    return { role: 'user', content: [unknownBlock(typeof raw, raw)] };
  });
}

export function chatTools(body: JsonRecord): ToolDefinition[] {
  const tools = recordsOf(body.tools).map((t) => asRecord(t.function) ?? t);
  return [...tools, ...recordsOf(body.functions)].map((fn) => {
    const def: ToolDefinition = { name: asString(fn.name) ?? '', kind: 'function' };
    const description = asString(fn.description);
    if (description !== undefined) def.description = description;
    if (fn.parameters !== undefined) def.inputSchema = fn.parameters;
    return def;
  });
}

/** The text of the first system (or developer) message. */
export function chatSystem(input: readonly Message[]): string | undefined {
  const first = input.find((m) => m.role === 'system' || m.role === 'developer');
  return first ? joinTexts(first.content.flatMap((b) => (b.type === 'text' ? [b.text] : []))) : undefined;
}

export function readChatUsage(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  const usage: Usage = {};
  const prompt = asRecord(raw.prompt_tokens_details);
  const completion = asRecord(raw.completion_tokens_details);
  const entries: [keyof Usage, unknown][] = [
    ['inputTokens', raw.prompt_tokens],
    ['outputTokens', raw.completion_tokens],
    // OpenAI and OpenRouter report cache hits in the details; LiteLLM passes Anthropic's names through.
    ['cacheReadTokens', prompt?.cached_tokens ?? raw.cache_read_input_tokens],
    ['cacheWriteTokens', prompt?.cache_write_tokens ?? raw.cache_creation_input_tokens],
    ['reasoningTokens', completion?.reasoning_tokens],
  ];
  for (const [key, value] of entries) {
    const n = asNumber(value);
    if (n !== undefined) usage[key] = n;
  }
  return usage;
}

export const CHAT_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'functions', 'function_call', 'stream', 'stream_options', 'max_tokens',
  'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'n', 'stop', 'seed', 'user', 'presence_penalty',
  'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'response_format', 'parallel_tool_calls',
  'prompt_cache_key', 'reasoning_effort', 'reasoning', 'metadata', 'store', 'service_tier', 'usage', 'provider',
  'transforms', 'models', 'route', 'modalities', 'verbosity', 'safety_identifier', 'extra_body',
]);
