// Tolerant readers for JSON that came off the wire. Every dissector reads untrusted, drifting
// formats, so nothing here throws: a value of the wrong type reads as `undefined` and the caller
// decides whether that is worth an error message.

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonRecord | undefined {
  return isRecord(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A non-empty string, or undefined: ids and names on the wire are sometimes sent as "". */
export function asId(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** The records of an array, skipping anything else (a tolerant decoder must not trip on a stray null). */
export function recordsOf(value: unknown): JsonRecord[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/**
 * How deep captured JSON may nest before it is cut (serde_json's default limit). JSON.parse takes
 * any depth, but JSON.stringify, structured clone and every walker after it recurse: one body
 * nested 100,000 levels deep used to make the whole session list fail (docs/decisions.md, decision 57).
 */
export const MAX_JSON_DEPTH = 128;
/** What stands in for an object or array nested deeper than MAX_JSON_DEPTH. */
export const TOO_DEEP = `[nested deeper than ${MAX_JSON_DEPTH} levels: not shown]`;

/** `cut`: some of it nested deeper than MAX_JSON_DEPTH and now reads TOO_DEEP. */
export type JsonParse = { ok: true; value: unknown; cut?: true } | { ok: false; error: string };

/**
 * Parses JSON text. Surrounding whitespace is allowed (OpenRouter pads bodies and SSE data with
 * blank lines and spaces; JSON.parse already accepts it, this just says so explicitly). Objects
 * and arrays deeper than MAX_JSON_DEPTH are replaced by TOO_DEEP, so no later step can overflow.
 */
export function parseJson(text: string): JsonParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  return nestsDeeperThan(text, MAX_JSON_DEPTH) ? { ok: true, value: cutDeep(value, MAX_JSON_DEPTH), cut: true } : { ok: true, value };
}

/** Whether JSON text opens more than `limit` objects or arrays at once (strings skipped whole). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      if (i < 0) return false;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let at = start + 1; ;) {
    const q = text.indexOf('"', at);
    if (q < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
    at = q + 1;
  }
}

/** Replaces every object or array below depth `limit` by TOO_DEEP, without recursion. */
function cutDeep(root: unknown, limit: number): unknown {
  if (typeof root !== 'object' || root === null) return root;
  const stack: [Record<string, unknown> | unknown[], number][] = [[root as Record<string, unknown>, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    const keys: (string | number)[] = Array.isArray(node) ? [...node.keys()] : Object.keys(node);
    for (const key of keys) {
      const child = (node as Record<string | number, unknown>)[key];
      if (typeof child !== 'object' || child === null) continue;
      if (depth >= limit) (node as Record<string | number, unknown>)[key] = TOO_DEEP;
      else stack.push([child as Record<string, unknown>, depth + 1]);
    }
  }
  return root;
}

/** Parsed JSON when the text parses, else undefined (for tool arguments, which may be partial). */
export function tryParseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  const parsed = parseJson(text);
  return parsed.ok ? parsed.value : undefined;
}

/** A short, single-line excerpt of untrusted text for an error message. */
export function preview(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Stringifies a value that came from JSON (no cycles possible); strings are returned as they are. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}

/**
 * A table lookup by a key that came off the wire. Plain `table[key]` would find inherited members
 * for keys such as "constructor" or "toString"; a format table must only answer for its own entries.
 */
export function own<T>(table: Partial<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
