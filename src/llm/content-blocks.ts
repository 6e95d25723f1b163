// Constructors for the provider-neutral content blocks, shared by every dissector so that the
// same wire idea (a tool call, a tool result, an unknown part) always comes out the same way.
import { asRecord, asString, isRecord, textOf, tryParseJson } from './json-value';
import type { ContentBlock, Message, Role } from './llm-call';

type ToolKind = 'function' | 'custom' | 'server';

/**
 * A tool call. `args` is kept exactly as sent or as joined from deltas; `input` is added only when
 * it parses as JSON (custom tools carry free text, e.g. Codex's JavaScript, which never does).
 */
export function toolCall(callId: string, name: string, args: string, kind: ToolKind, id?: string): ContentBlock {
  const block: Extract<ContentBlock, { type: 'tool-call' }> = { type: 'tool-call', callId, name, arguments: args, kind };
  if (kind !== 'custom') {
    const input = tryParseJson(args);
    if (input !== undefined) block.input = input;
  }
  if (id !== undefined && id !== callId) block.id = id;
  return block;
}

export function toolResult(callId: string, output: string, kind?: ToolKind, isError?: boolean): ContentBlock {
  const block: Extract<ContentBlock, { type: 'tool-result' }> = { type: 'tool-result', callId, output };
  if (kind !== undefined) block.kind = kind;
  if (isError) block.isError = true;
  return block;
}

export function unknownBlock(originalType: string, raw: unknown): ContentBlock {
  return { type: 'unknown', originalType, raw };
}

/** Joins text fragments one per line, without doubling a newline that a fragment already ends with. */
export function joinTexts(parts: readonly string[]): string {
  let out = '';
  for (const part of parts) {
    if (out !== '' && !out.endsWith('\n')) out += '\n';
    out += part;
  }
  return out;
}

/**
 * An image. A `data:` URL is the image itself (often megabytes of base64): only its media type is
 * kept, as for Anthropic's base64 sources, so that a call stays small enough to store and show.
 */
export function imageBlock(mediaType: string | undefined, url: string | undefined): ContentBlock {
  const block: Extract<ContentBlock, { type: 'image' }> = { type: 'image' };
  const inline = url?.startsWith('data:') ? url.slice(5).split(/[;,]/)[0] : undefined;
  const type = mediaType ?? (inline || undefined);
  if (type !== undefined) block.mediaType = type;
  if (url !== undefined && inline === undefined) block.source = url;
  return block;
}

const IMAGE_PARTS: ReadonlySet<string> = new Set(['image', 'input_image', 'image_url']);

/**
 * The text of a tool output that is a string or an array of parts ({type:'text'|'input_text'|
 * 'output_text', text}). Images become a short placeholder (a screenshot in a tool result would
 * otherwise be pasted as base64); other parts are kept as their JSON so nothing is lost.
 */
export function outputText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return textOf(value);
  return joinTexts(value.map((part) => {
    if (!isRecord(part)) return textOf(part);
    const text = asString(part.text);
    if (text !== undefined) return text;
    if (IMAGE_PARTS.has(asString(part.type) ?? '')) {
      const mediaType = asString(asRecord(part.source)?.media_type);
      return `[image${mediaType ? ` ${mediaType}` : ''}]`;
    }
    return textOf(part);
  }));
}

const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

export function asRole(value: unknown): Role | undefined {
  return typeof value === 'string' && ROLES.has(value) ? (value as Role) : undefined;
}

/** A message whose role is not one we know: kept as a user message holding the raw item. */
export function unknownRoleMessage(role: string, raw: unknown): Message {
  return { role: 'user', content: [unknownBlock(`role:${role}`, raw)] };
}
