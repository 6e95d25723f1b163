// OpenAI Responses items and tools. The same item shapes appear as request `input[]` (history and
// new items) and as response `output[]`, so one table reads both.
import { asRole, imageBlock, joinTexts, outputText, toolCall, toolResult, unknownBlock } from './content-blocks';
import { asArray, asId, asString, isRecord, own, recordsOf, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, Message, Role, ToolDefinition } from './llm-call';

/**
 * Codex puts its tools in a namespace called "functions" and calls them by the bare name; any
 * other namespace (MCP servers, for instance) is shown qualified so that two `search` tools stay apart.
 */
function qualifiedName(namespace: unknown, name: unknown): string {
  const bare = asString(name) ?? '';
  const ns = asId(namespace);
  return ns === undefined || ns === 'functions' ? bare : `${ns}.${bare}`;
}

/** One content part of a message item. */
function partBlock(part: unknown): ContentBlock {
  if (typeof part === 'string') return { type: 'text', text: part };
  if (!isRecord(part)) return unknownBlock(typeof part, part);
  const type = asString(part.type) ?? '';
  if (type === 'input_text' || type === 'output_text' || type === 'text' || type === 'summary_text') {
    const block: ContentBlock = { type: 'text', text: asString(part.text) ?? '' };
    const annotations = asArray(part.annotations);
    if (annotations && annotations.length > 0) block.citations = annotations;
    return block;
  }
  if (type === 'refusal') return { type: 'text', text: asString(part.refusal) ?? '' };
  if (type === 'input_image') return imageBlock(undefined, asString(part.image_url) ?? asString(part.file_id));
  return unknownBlock(type, part);
}

function messageBlocks(content: unknown): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return (asArray(content) ?? []).map(partBlock);
}

function reasoningBlock(item: JsonRecord): ContentBlock {
  // `summary` is what a client may show; `content` carries raw reasoning text (open-weight models).
  const parts = [...recordsOf(item.summary), ...recordsOf(item.content)];
  const block: ContentBlock = {
    type: 'reasoning',
    summary: joinTexts(parts.map((p) => asString(p.text) ?? '')),
    encrypted: typeof item.encrypted_content === 'string' && item.encrypted_content !== '',
  };
  const id = asId(item.id);
  if (id !== undefined) block.id = id;
  return block;
}

/** What an item turns into, and whose turn it is when it appears in `input[]`. */
interface ItemReader {
  role: Role | 'from-item';
  blocks: (item: JsonRecord) => ContentBlock[];
}

const ITEMS: Partial<Record<string, ItemReader>> = {
  message: { role: 'from-item', blocks: (item) => messageBlocks(item.content) },
  reasoning: { role: 'assistant', blocks: (item) => [reasoningBlock(item)] },
  function_call: {
    role: 'assistant',
    blocks: (item) => [toolCall(callIdOf(item), qualifiedName(item.namespace, item.name), asString(item.arguments) ?? '', 'function', asId(item.id))],
  },
  custom_tool_call: {
    role: 'assistant',
    blocks: (item) => [toolCall(callIdOf(item), qualifiedName(item.namespace, item.name), asString(item.input) ?? '', 'custom', asId(item.id))],
  },
  function_call_output: { role: 'tool', blocks: (item) => [toolResult(callIdOf(item), outputText(item.output), 'function')] },
  custom_tool_call_output: { role: 'tool', blocks: (item) => [toolResult(callIdOf(item), outputText(item.output), 'custom')] },
};

function callIdOf(item: JsonRecord): string {
  return asId(item.call_id) ?? asId(item.id) ?? '';
}

function readerOf(item: JsonRecord): ItemReader | undefined {
  // OpenCode sends `{role, content}` with no `type`: that is a message.
  const type = asString(item.type) ?? (item.role !== undefined ? 'message' : '');
  const known = own(ITEMS, type);
  if (known) return known;
  // Built-in tools the API runs itself: web_search_call, file_search_call, code_interpreter_call, …
  if (type.endsWith('_call')) {
    const { type: _t, id: _i, status: _s, ...args } = item;
    return { role: 'assistant', blocks: () => [toolCall(asId(item.id) ?? '', type.slice(0, -5), textOf(args), 'server', asId(item.id))] };
  }
  if (type.endsWith('_call_output')) {
    return { role: 'tool', blocks: () => [toolResult(callIdOf(item), outputText(item.output), 'server')] };
  }
  return undefined;
}

/** Output items of a response as content blocks. */
export function outputItemBlocks(item: unknown): ContentBlock[] {
  if (!isRecord(item)) return [unknownBlock(typeof item, item)];
  const reader = readerOf(item);
  return reader ? reader.blocks(item) : [unknownBlock(asString(item.type) ?? '', item)];
}

/**
 * Request `input[]` as messages, one per item, in order. `additional_tools` items are tool
 * definitions, not conversation, so they go to the tool list instead (see `responsesTools`).
 */
export function inputMessages(input: unknown[], errors: string[]): Message[] {
  const out: Message[] = [];
  input.forEach((item, i) => {
    if (!isRecord(item)) {
      errors.push(`input[${i}] is not an object.`);
      out.push({ role: 'user', content: [unknownBlock(typeof item, item)] });
      return;
    }
    if (item.type === 'additional_tools') return;
    const reader = readerOf(item);
    if (!reader) {
      out.push({ role: asRole(item.role) ?? 'user', content: [unknownBlock(asString(item.type) ?? '', item)] });
      return;
    }
    let role = reader.role === 'from-item' ? asRole(item.role) : reader.role;
    if (!role) {
      errors.push(`input[${i}] has an unknown role ${JSON.stringify(item.role)}; shown as a user message.`);
      role = 'user';
    }
    out.push({ role, content: reader.blocks(item) });
  });
  return out;
}

function toolDefinitions(raw: unknown): ToolDefinition[] {
  return recordsOf(raw).flatMap((t): ToolDefinition[] => {
    const type = asString(t.type) ?? 'function';
    if (type === 'namespace') {
      const inner = toolDefinitions(t.tools).map((d) => ({ ...d, name: qualifiedName(t.name, d.name) }));
      return inner.length > 0 ? inner : [{ name: asString(t.name) ?? '', kind: 'namespace' }];
    }
    const kind = type === 'function' ? 'function' : type === 'custom' ? 'custom' : 'server';
    const def: ToolDefinition = { name: asString(t.name) ?? asString(t.server_label) ?? type, kind };
    const description = asString(t.description);
    if (description !== undefined) def.description = description;
    const schema = t.parameters ?? t.format;
    if (schema !== undefined) def.inputSchema = schema;
    return [def];
  });
}

/** Top-level `tools[]` plus the tools inside `additional_tools` input items (Codex's code mode). */
export function responsesTools(body: JsonRecord): ToolDefinition[] {
  const extra = recordsOf(body.input).filter((item) => item.type === 'additional_tools').map((item) => item.tools);
  return [body.tools, ...extra].flatMap(toolDefinitions);
}

/** `instructions` when set; else the first developer or system message, which is where Codex and OpenCode put it. */
export function responsesSystem(body: JsonRecord, input: readonly Message[]): string | undefined {
  const instructions = asString(body.instructions);
  if (instructions !== undefined && instructions.trim() !== '') return instructions;
  const first = input.find((m) => m.role === 'developer' || m.role === 'system');
  if (!first) return undefined;
  return joinTexts(first.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])));
}

export const RESPONSES_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'type', 'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'store',
  'include', 'prompt_cache_key', 'stream', 'client_metadata', 'text', 'generate', 'previous_response_id',
  'max_output_tokens', 'temperature', 'top_p', 'metadata', 'service_tier', 'truncation', 'user', 'background',
  'prompt', 'safety_identifier', 'stream_options', 'prompt_cache_retention', 'conversation', 'top_logprobs',
  'max_tool_calls',
]);
