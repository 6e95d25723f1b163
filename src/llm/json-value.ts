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

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Parses JSON text. Surrounding whitespace is allowed (OpenRouter pads bodies and SSE data with
 * blank lines and spaces; JSON.parse already accepts it, this just says so explicitly).
 */
export function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
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
