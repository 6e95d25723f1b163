// Small typed readers over parsed JSON for the HAR checks: each either returns the value with its
// type or throws a HarFieldError naming the field's path. Values are never echoed whole: a file
// may hold megabytes in one string, or escape sequences meant for a terminal.

/** A field of one entry is wrong; `path` is relative to the entry (`request.url`, `timings`). */
export class HarFieldError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(path ? `${path}: ${problem}` : problem);
  }
}

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: a file's `{"constructor": …}` is data, and a missing key never reaches Object.prototype. */
export function own(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** `null`, `array`, `string`, `number`, … for "expected X, got Y". */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function expected(path: string, what: string, value: unknown): HarFieldError {
  return new HarFieldError(path, value === undefined ? 'missing' : `expected ${what}, got ${describe(value)}`);
}

export function record(value: unknown, path: string): JsonObject {
  if (isRecord(value)) return value;
  throw expected(path, 'an object', value);
}

/** Absent (`undefined` or `null`) is fine; any other non-object is not. */
export function optionalRecord(value: unknown, path: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  return record(value, path);
}

export function text(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  throw expected(path, 'a string', value);
}

export function optionalText(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return text(value, path);
}

export function finite(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  // JSON's 1e999 parses to Infinity.
  throw typeof value === 'number' ? new HarFieldError(path, `expected a finite number, got ${value}`) : expected(path, 'a number', value);
}

export function optionalFinite(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return finite(value, path);
}

export function optionalBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value ?? undefined;
  throw expected(path, 'true or false', value);
}

/** A time or size that may be unknown: a finite number ≥ 0, else HAR's -1. */
export function lenientNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : -1;
}

/** Metadata text that may be absent or of the wrong type: '' then. */
export function lenientText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Standard or URL-safe base64, padded or not, with line breaks allowed (MIME). */
export function isBase64(value: string): boolean {
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (compact.length % 4 === 1) return false;
  if (compact.endsWith('=') && compact.length % 4 !== 0) return false;
  return /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/.test(compact);
}

/** A value for a message: JSON-quoted, cut short, and with nothing a terminal would obey. */
export function quote(value: string): string {
  return escapeControls(JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value));
}

/** Control characters (C0, DEL, C1) and bidirectional overrides as `\uXXXX`. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
