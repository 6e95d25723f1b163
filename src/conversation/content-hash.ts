// Content identity for history entries. Every request re-sends the whole history; the assembler
// recognises what it already has by looking at a few positions only (see continuity.ts), where
// it compares entries directly (string comparison stops at the first difference). Hashes serve
// where an entry must be remembered in another form: the edited versions of an old entry.
//
// The canonical form ignores what legitimately differs between a response and the same content
// re-sent in the next request: thinking signatures, citations, block ids, whitespace and key
// order of tool-call JSON (the response streams `arguments` as text, the resend re-serialises
// the parsed `input`).
import type { ContentBlock, Role } from '../llm/llm-call';

/** Who an entry belongs to, independent of how a given API groups blocks into messages. */
export type RoleClass = 'system' | 'user' | 'assistant' | 'tool';

/**
 * cyrb53, a fast 53-bit string hash, fed piece by piece so that an entry is hashed without
 * first concatenating its fields into one (possibly large) string. Collisions are negligible
 * at the sizes of one session.
 */
class Hasher {
  private h1: number;
  private h2: number;
  constructor(seed = 0) {
    this.h1 = 0xdeadbeef ^ seed;
    this.h2 = 0x41c6ce57 ^ seed;
  }
  update(text: string): this {
    let { h1, h2 } = this;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }
  digest(): number {
    let { h1, h2 } = this;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

export function hashString(text: string, seed = 0): number {
  return new Hasher(seed).update(text).digest();
}

/** JSON with sorted keys, so that equal values give equal text whatever the key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(record[k])}`).join(',')}}`;
}

/** The role class of one block: tool calls and results are classed by what they are. */
export function roleClassOf(role: Role, block: ContentBlock): RoleClass {
  if (block.type === 'tool-result') return 'tool';
  if (block.type === 'tool-call') return 'assistant';
  if (role === 'system' || role === 'developer') return 'system';
  if (role === 'tool') return 'tool';
  return role;
}

/** A tool call's input in canonical form: parsed when possible, else the raw text. */
export function canonicalArguments(block: { arguments: string; input?: unknown }): string {
  if (block.input !== undefined) return stableStringify(block.input);
  const text = block.arguments.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return stableStringify(JSON.parse(text));
    } catch {
      // Not JSON after all (custom tools send code or patches): the text itself is canonical.
    }
  }
  return block.arguments;
}

/** Feeds the canonical form of a block: a type tag, then its identifying fields, separated. */
function feedBody(h: Hasher, block: ContentBlock): void {
  const SEP = '\u0000';
  switch (block.type) {
    case 'text':
      h.update('t').update(block.text);
      return;
    case 'thinking':
      h.update('k').update(block.text);
      return;
    case 'redacted-thinking':
      h.update('r').update(block.data ?? '');
      return;
    case 'reasoning':
      // Encrypted reasoning is identified by its item id when it has one; the summary may be
      // dropped from resends.
      if (block.id) h.update('R#').update(block.id);
      else h.update(block.encrypted ? 'R1' : 'R0').update(block.summary);
      return;
    case 'tool-call':
      h.update('c').update(block.callId).update(SEP).update(block.name).update(SEP).update(canonicalArguments(block));
      return;
    case 'tool-result':
      h.update('o').update(block.callId).update(SEP).update(block.isError ? '1' : '0').update(SEP).update(block.output);
      return;
    case 'image':
      h.update('i').update(block.mediaType ?? '').update(SEP).update(block.source ?? '');
      return;
    case 'unknown':
      h.update('u').update(block.originalType).update(SEP).update(stableStringify(block.raw));
  }
}

/** The hash that identifies an entry in a history. */
export function entryHash(role: RoleClass, block: ContentBlock): number {
  const h = new Hasher().update(role).update('\u0001');
  feedBody(h, block);
  return h.digest();
}

/**
 * The same call id, or a call the API sent without one (Gemini: `callId` is then the tool's name)
 * that the client re-sends under an id of its own (Gemini CLI: `run_shell_command_<ms>_<n>`).
 */
function sameCallId(a: ContentBlock & { type: 'tool-call' }, b: ContentBlock & { type: 'tool-call' }): boolean {
  return a.callId === b.callId || a.callIdFromName === true || b.callIdFromName === true;
}

/**
 * Whether two blocks of one role are the same entry: what equal hashes mean, but decided by
 * string comparison, which stops at the first difference and needs no hashing. One difference
 * is tolerated that hashes cannot see: a tool call sent without an id equals its re-sent copy
 * with the client's id (same name, same arguments).
 */
export function sameBlock(a: ContentBlock, b: ContentBlock): boolean {
  switch (a.type) {
    case 'text':
    case 'thinking':
      return b.type === a.type && a.text === b.text;
    case 'redacted-thinking':
      return b.type === a.type && (a.data ?? '') === (b.data ?? '');
    case 'reasoning':
      if (b.type !== a.type) return false;
      return a.id || b.id ? a.id === b.id : a.encrypted === b.encrypted && a.summary === b.summary;
    case 'tool-call':
      return b.type === a.type && sameCallId(a, b) && a.name === b.name
        && (a.arguments === b.arguments || canonicalArguments(a) === canonicalArguments(b));
    case 'tool-result':
      return b.type === a.type && a.callId === b.callId && !a.isError === !b.isError && a.output === b.output;
    case 'image':
      return b.type === a.type && (a.mediaType ?? '') === (b.mediaType ?? '') && (a.source ?? '') === (b.source ?? '');
    case 'unknown':
      return b.type === a.type && a.originalType === b.originalType && stableStringify(a.raw) === stableStringify(b.raw);
  }
}

/**
 * The shape of an entry without its content: two entries of the same shape at the same place in
 * two versions of a history are the same entry, edited (e.g. an old tool result cleared).
 */
export function entryShape(role: RoleClass, block: ContentBlock): string {
  switch (block.type) {
    case 'tool-call':
    case 'tool-result':
      return `${role}:${block.type}:${block.callId}`;
    default:
      return `${role}:${block.type}`;
  }
}
