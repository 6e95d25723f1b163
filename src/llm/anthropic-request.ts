// The request side of Anthropic Messages: system, tools and messages, and the content-block table
// that the response side shares (a non-streamed response and `content_block_start` carry the same
// block shapes as the history in the request).
import { asRole, imageBlock, joinTexts, outputText, toolCall, toolResult, unknownBlock, unknownRoleMessage } from './content-blocks';
import { asArray, asId, asString, isRecord, own, recordsOf, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, Message, ToolDefinition } from './llm-call';

type BlockReader = (block: JsonRecord) => ContentBlock;

const toolUse = (kind: 'function' | 'server'): BlockReader => (b) =>
  toolCall(asString(b.id) ?? '', asString(b.name) ?? '', textOf(b.input ?? {}), kind);

/** Block types by name. Anything else becomes an `unknown` block, shown raw. */
const BLOCKS: Partial<Record<string, BlockReader>> = {
  text: (b) => {
    const block: ContentBlock = { type: 'text', text: asString(b.text) ?? '' };
    const citations = asArray(b.citations);
    if (citations && citations.length > 0) block.citations = citations;
    return block;
  },
  thinking: (b) => {
    const block: ContentBlock = { type: 'thinking', text: asString(b.thinking) ?? '' };
    const signature = asId(b.signature);
    if (signature !== undefined) block.signature = signature;
    return block;
  },
  redacted_thinking: (b) => {
    const data = asString(b.data);
    return data === undefined ? { type: 'redacted-thinking' } : { type: 'redacted-thinking', data };
  },
  tool_use: toolUse('function'),
  // Tools the API runs itself (web search, code execution) and MCP connector calls.
  server_tool_use: toolUse('server'),
  mcp_tool_use: toolUse('server'),
  tool_result: (b) => toolResult(asString(b.tool_use_id) ?? '', outputText(b.content ?? ''), 'function', b.is_error === true),
  // Base64 sources keep only their media type; URL sources keep the URL.
  image: (b) => {
    const source = isRecord(b.source) ? b.source : {};
    return imageBlock(asString(source.media_type), asString(source.url) ?? asString(source.file_id));
  },
};

export function anthropicBlock(raw: unknown): ContentBlock {
  if (typeof raw === 'string') return { type: 'text', text: raw };
  if (!isRecord(raw)) return unknownBlock(typeof raw, raw);
  const type = asString(raw.type) ?? '';
  const reader = own(BLOCKS, type);
  if (reader) return reader(raw);
  // web_search_tool_result, code_execution_tool_result, mcp_tool_result, …: results of server tools.
  if (type.endsWith('_tool_result')) {
    return toolResult(asString(raw.tool_use_id) ?? '', outputText(raw.content ?? ''), 'server', raw.is_error === true);
  }
  return unknownBlock(type, raw);
}

/** `content` is a string or an array of blocks. */
function anthropicContent(content: unknown): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks = asArray(content);
  return blocks ? blocks.map(anthropicBlock) : [unknownBlock(typeof content, content)];
}

export function anthropicMessages(messages: unknown[], errors: string[]): Message[] {
  return messages.map((raw, i) => {
    if (!isRecord(raw)) {
      errors.push(`messages[${i}] is not an object.`);
      return { role: 'user', content: [unknownBlock(typeof raw, raw)] };
    }
    const role = asRole(raw.role);
    // `{"role":"system"}` entries in the middle of the history are a real (beta) Claude Code shape.
    if (!role) {
      errors.push(`messages[${i}] has an unknown role ${JSON.stringify(raw.role)}; kept raw.`);
      return unknownRoleMessage(String(raw.role), raw);
    }
    return { role, content: anthropicContent(raw.content) };
  });
}

/** `system` is a string or an array of text blocks; Claude Code's block 0 is its billing line. */
export function anthropicSystem(system: unknown): string | undefined {
  if (typeof system === 'string') return system;
  const blocks = asArray(system);
  if (!blocks) return undefined;
  return joinTexts(blocks.map((b) => (isRecord(b) ? asString(b.text) ?? textOf(b) : textOf(b))));
}

export function anthropicTools(tools: unknown): ToolDefinition[] {
  return recordsOf(tools).map((t) => {
    const def: ToolDefinition = { name: asString(t.name) ?? asString(t.type) ?? '' };
    const description = asString(t.description);
    if (description !== undefined) def.description = description;
    if (t.input_schema !== undefined) def.inputSchema = t.input_schema;
    // Server tools are declared by a versioned type (web_search_20250305); client tools have none or 'custom'.
    const type = asString(t.type);
    def.kind = type === undefined || type === 'custom' ? 'function' : 'server';
    return def;
  });
}

export const ANTHROPIC_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'system', 'tools', 'tool_choice', 'metadata', 'max_tokens', 'stream', 'thinking',
  'temperature', 'top_p', 'top_k', 'stop_sequences', 'output_config', 'context_management', 'container',
  'mcp_servers', 'service_tier', 'betas', 'output_format',
]);
