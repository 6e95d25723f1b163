// Gemini `contents[].parts` and `tools[]`. Parts carry one field each (text, functionCall, …),
// so the table is keyed by the field that is present rather than by a `type`.
import { imageBlock, joinTexts, toolCall, toolResult, unknownBlock } from './content-blocks';
import { asRecord, asString, isRecord, own, recordsOf, textOf, type JsonRecord } from './json-value';
import type { ContentBlock, Message, Role, ToolDefinition } from './llm-call';

type PartReader = (value: unknown, part: JsonRecord) => ContentBlock[];

const PARTS: [string, PartReader][] = [
  ['text', (value, part) => {
    const text = asString(value) ?? '';
    const signature = asString(part.thoughtSignature);
    if (part.thought === true) {
      return [signature ? { type: 'thinking', text, signature } : { type: 'thinking', text }];
    }
    // A thought signature on an ordinary part is the model's encrypted reasoning, which the client
    // must send back; Gemini 3 streams it on an otherwise empty text part at the end.
    const out: ContentBlock[] = text === '' ? [] : [{ type: 'text', text }];
    if (signature) out.push({ type: 'redacted-thinking', data: signature });
    return out;
  }],
  ['functionCall', (value, part) => {
    const fn = asRecord(value) ?? {};
    const name = asString(fn.name) ?? '';
    const id = asString(fn.id);
    const call = toolCall(id ?? name, name, textOf(fn.args ?? {}), 'function');
    // Without an id the name stands in for it (an id-less functionResponse names the tool too),
    // and the assembler knows that the client's re-sent copy may carry an id of its own.
    if (id === undefined && call.type === 'tool-call') call.callIdFromName = true;
    const out = [call];
    const signature = asString(part.thoughtSignature);
    return signature ? [{ type: 'redacted-thinking', data: signature }, ...out] : out;
  }],
  ['functionResponse', (value) => {
    const fn = asRecord(value) ?? {};
    return [toolResult(asString(fn.id) ?? asString(fn.name) ?? '', textOf(fn.response ?? ''), 'function')];
  }],
  ['inlineData', (value) => [media(asRecord(value) ?? {}, undefined)]],
  ['fileData', (value) => {
    const file = asRecord(value) ?? {};
    return [media(file, asString(file.fileUri))];
  }],
  ['executableCode', (value) => [toolCall('', 'code_execution', textOf(value), 'server')]],
  ['codeExecutionResult', (value) => [toolResult('', textOf(value), 'server')]],
];

/** Inline data is base64 of the file itself: an image keeps its type only, anything else its type and size. */
function media(data: JsonRecord, source: string | undefined): ContentBlock {
  const mediaType = asString(data.mimeType);
  if (mediaType?.startsWith('image/')) return imageBlock(mediaType, source);
  const { data: payload, ...rest } = data;
  return unknownBlock('media', typeof payload === 'string' ? { ...rest, dataLength: payload.length } : data);
}

export function geminiPart(part: unknown): ContentBlock[] {
  if (!isRecord(part)) return [unknownBlock(typeof part, part)];
  for (const [field, read] of PARTS) if (part[field] !== undefined) return read(part[field], part);
  // A part holding only a thought signature (no text field at all) still carries reasoning.
  const signature = asString(part.thoughtSignature);
  if (signature) return [{ type: 'redacted-thinking', data: signature }];
  return [unknownBlock(Object.keys(part).join(',') || 'empty-part', part)];
}

const ROLES: Partial<Record<string, Role>> = { user: 'user', model: 'assistant', function: 'tool', system: 'system' };

export function geminiContents(contents: unknown[], errors: string[]): Message[] {
  return contents.map((raw, i) => {
    if (!isRecord(raw)) {
      errors.push(`contents[${i}] is not an object.`);
      return { role: 'user', content: [unknownBlock(typeof raw, raw)] };
    }
    const role = raw.role === undefined ? 'user' : own(ROLES, String(raw.role));
    if (!role) errors.push(`contents[${i}] has an unknown role ${JSON.stringify(raw.role)}; shown as a user message.`);
    return { role: role ?? 'user', content: recordsOf(raw.parts).flatMap(geminiPart) };
  });
}

/** `systemInstruction` (or its snake_case spelling, which the REST API also accepts): a Content or a string. */
export function geminiSystem(body: JsonRecord): string | undefined {
  const raw = body.systemInstruction ?? body.system_instruction;
  if (typeof raw === 'string') return raw;
  const parts = recordsOf(asRecord(raw)?.parts);
  return parts.length > 0 ? joinTexts(parts.map((p) => asString(p.text) ?? '')) : undefined;
}

export function geminiTools(tools: unknown): ToolDefinition[] {
  return recordsOf(tools).flatMap((tool): ToolDefinition[] => {
    const declarations = recordsOf(tool.functionDeclarations ?? tool.function_declarations);
    const functions = declarations.map((fn) => {
      const def: ToolDefinition = { name: asString(fn.name) ?? '', kind: 'function' };
      const description = asString(fn.description);
      if (description !== undefined) def.description = description;
      const schema = fn.parametersJsonSchema ?? fn.parameters;
      if (schema !== undefined) def.inputSchema = schema;
      return def;
    });
    // googleSearch, codeExecution, urlContext, …: tools the API runs itself.
    const builtIn = Object.keys(tool)
      .filter((k) => k !== 'functionDeclarations' && k !== 'function_declarations')
      .map((k): ToolDefinition => ({ name: k, kind: 'server' }));
    return [...functions, ...builtIn];
  });
}

/** Joins streamed fragments: consecutive text (or thinking) parts are one block split across chunks. */
export function mergeFragments(blocks: ContentBlock[]): ContentBlock[] {
  const out: ContentBlock[] = [];
  for (const block of blocks) {
    const last = out.at(-1);
    if (last?.type === 'text' && block.type === 'text' && !last.citations) {
      out[out.length - 1] = { ...last, text: last.text + block.text };
    } else if (last?.type === 'thinking' && block.type === 'thinking' && !last.signature) {
      out[out.length - 1] = { ...block, text: last.text + block.text };
    } else {
      out.push(block);
    }
  }
  return out;
}

export const GEMINI_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'contents', 'systemInstruction', 'system_instruction', 'tools', 'toolConfig', 'tool_config', 'generationConfig',
  'generation_config', 'safetySettings', 'safety_settings', 'cachedContent', 'cached_content', 'labels', 'model',
  'generateContentRequest',
]);
