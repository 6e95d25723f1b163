// Redaction of secret values in JSON text that leaves every other byte as it was.
// Parsing and re-serializing would change the bytes (spacing, escapes, number spelling, big
// integers), and the store must give back the body as it was sent, minus the secrets. So this
// is a tolerant lexer: it finds `"key": "value"` pairs wherever they are (any depth, invalid or
// truncated JSON, JSON inside SSE `data:` lines, JSON encoded inside a JSON string) and replaces
// only the value's string token.
import { isSpace } from './json-validation';

export interface JsonRedactionRules {
  /** Whether the string value of this key (decoded) is a secret. */
  isSecretKey(key: string): boolean;
  /** The replacement for a secret value of that key. */
  replacement(key: string, value: string): string;
  /** Whether a value is already a redaction marker (so redacting twice changes nothing). */
  isRedacted(value: string): boolean;
}

const BACKSLASH = 92;
const COLON = 58;

/** What the lexer reads: a string, or raw bytes read as latin1 (ByteText). */
interface LexText {
  readonly length: number;
  indexOf(search: string, from: number): number;
  charCodeAt(index: number): number;
  slice(start: number, end?: number): string;
}

/**
 * Bytes seen as their latin1 text without making it one string: V8 keeps a string over 128 KiB in
 * its large object space, on fresh pages each time, which cost a large body 7 times as much per
 * byte as a small one (docs/decisions.md, decision 90). Only the small pieces the lexer keeps
 * (keys, secret values, the text around a replacement) become strings.
 */
export class ByteText implements LexText {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  indexOf(search: string, from: number): number {
    // The lexer looks for one character at a time: as a byte, Buffer's search is a memchr, not a string search.
    return search.length === 1 ? this.bytes.indexOf(search.charCodeAt(0), from) : this.bytes.indexOf(search, from, 'latin1');
  }

  charCodeAt(index: number): number {
    // A string gives NaN past its end; so does this, through undefined.
    return index < this.bytes.length ? this.bytes[index] : NaN;
  }

  slice(start: number, end = this.bytes.length): string {
    return this.bytes.toString('latin1', start, end);
  }
}

/**
 * Returns `text` with the string values of secret keys replaced.
 * With `bytes` set, `text` is a latin1 view of raw bytes (one char per byte, so nothing is
 * lost); tokens are then read as UTF-8 and replacements written back as UTF-8 bytes.
 */
export function redactJsonText(text: string, rules: JsonRedactionRules, bytes = false): string {
  return redactJson(text, rules, bytes) ?? text;
}

/** `redactJsonText` over raw bytes: the redacted bytes' latin1 text, or undefined when nothing was secret. */
export function redactJsonBytes(data: Buffer, rules: JsonRedactionRules): string | undefined {
  return redactJson(new ByteText(data), rules, true);
}

/** The redacted text, or undefined when nothing changed. */
function redactJson(text: LexText, rules: JsonRedactionRules, bytes: boolean): string | undefined {
  const out: string[] = [];
  let copied = 0;
  let i = 0;
  // The last key seen: its token's bounds, and where its value may start (after the colon).
  let keyStart = -1;
  let keyEnd = -1;
  let afterColon = 0;
  let nextNewline = -1;
  const secretKey = (): string | undefined => {
    if (keyStart === -1) return undefined;
    const key = readKey(text, keyStart, keyEnd, bytes);
    return rules.isSecretKey(key) ? key : undefined;
  };
  for (;;) {
    const start = text.indexOf('"', i);
    if (start === -1) break;
    const { end, escapedQuote } = closingQuote(text, start);
    if (nextNewline < start) {
      nextNewline = text.indexOf('\n', start);
      if (nextNewline === -1) nextNewline = text.length;
    }
    if (end === -1 || end > nextNewline) {
      const key = keyStart !== -1 && end === -1 && nextNewline >= text.length && onlySpace(text, afterColon, start) ? secretKey() : undefined;
      if (key !== undefined) {
        // The text was cut (at the capture limit) inside a secret: redact what there is of it.
        const value = decodeToken(`${text.slice(start)}"`, bytes);
        out.push(text.slice(copied, start), encodeString(rules.replacement(key, value), bytes).slice(0, -1));
        copied = text.length;
        break;
      }
      // JSON strings never hold a raw newline: this quote opens no string. Resume on the next
      // line, so that one stray quote cannot hide the rest of the text.
      keyStart = -1;
      if (nextNewline >= text.length) break;
      i = nextNewline + 1;
      continue;
    }
    let k = end + 1;
    while (isSpace(text.charCodeAt(k))) k++;
    if (text.charCodeAt(k) === COLON) {
      keyStart = start;
      keyEnd = end;
      afterColon = k + 1;
      i = k + 1;
      continue;
    }
    const key = keyStart !== -1 && onlySpace(text, afterColon, start) ? secretKey() : undefined;
    if (key !== undefined) {
      const value = decodeToken(text.slice(start, end + 1), bytes);
      if (!rules.isRedacted(value)) {
        out.push(text.slice(copied, start), encodeString(rules.replacement(key, value), bytes));
        copied = end + 1;
      }
    } else if (escapedQuote && mightHoldSecretKey(text.slice(start, end + 1), rules)) {
      // A JSON document carried as a string (tool arguments, metadata headers): redact inside it.
      const value = decodeToken(text.slice(start, end + 1), bytes);
      const inner = redactJsonText(value, rules, false);
      if (inner !== value) {
        out.push(text.slice(copied, start), encodeString(inner, bytes));
        copied = end + 1;
      }
    }
    keyStart = -1;
    i = end + 1;
  }
  if (copied === 0) return undefined;
  out.push(text.slice(copied));
  return out.join('');
}

/** A key's text longer than this cannot be a secret's name (isSecretKey takes names up to 64 chars). */
const MAX_KEY_CHARS = 64;
const UNICODE_ESCAPE = /^\\u[0-9a-fA-F]{4}$/;
/** A name with an escape, or (in bytes mode) a non-ASCII byte, is not its plain text. */
const NEEDS_DECODING = /[\\\u0080-\uffff]/;

/**
 * Whether a string token could hold JSON with a secret key, at any depth of escaping: a quoted
 * name before a colon that names a secret, or one this cannot read plainly (escapes or non-ASCII
 * inside it), asked before the token is decoded and lexed again. Colons are found natively and
 * are few in what agents send; the regular expression this replaces tried every spelling of every
 * name at every character, 6 µs a KB, the larger part of redacting a request full of quoted code.
 */
function mightHoldSecretKey(token: string, rules: JsonRedactionRules): boolean {
  for (let colon = token.indexOf(':'); colon !== -1; colon = token.indexOf(':', colon + 1)) {
    // Back over whitespace before the colon: raw, escaped (\n \t \r, or any \uXXXX) and the
    // backslashes of deeper escaping.
    let k = colon - 1;
    for (;;) {
      const c = token.charCodeAt(k);
      if (isSpace(c) || c === BACKSLASH) k--;
      else if ((c === 110 || c === 116 || c === 114) && token.charCodeAt(k - 1) === BACKSLASH) k -= 2;
      else if (k >= 5 && token.charCodeAt(k - 4) === 117 && UNICODE_ESCAPE.test(token.slice(k - 5, k + 1))) k -= 6;
      else break;
    }
    if (token.charCodeAt(k) !== 34) continue;
    const open = token.lastIndexOf('"', k - 1);
    if (open === -1) continue;
    // The name between the quotes, without the backslashes that escape its closing quote.
    let end = k;
    while (end > open + 1 && token.charCodeAt(end - 1) === BACKSLASH) end--;
    const name = token.slice(open + 1, end);
    if (name.length <= MAX_KEY_CHARS && rules.isSecretKey(name)) return true;
    if (NEEDS_DECODING.test(name)) return true;
  }
  return false;
}

/** The closing quote of the string opened at `start` (-1 if none), and whether an escaped quote came before it. */
function closingQuote(text: LexText, start: number): { end: number; escapedQuote: boolean } {
  let at = start + 1;
  let escapedQuote = false;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q === -1) return { end: -1, escapedQuote };
    let backslashes = 0;
    for (let b = q - 1; b > start && text.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return { end: q, escapedQuote };
    escapedQuote = true;
    at = q + 1;
  }
}

/** A key's text: the plain slice, unless escapes or (in bytes mode) non-ASCII bytes need decoding. */
function readKey(text: LexText, start: number, end: number, bytes: boolean): string {
  const inner = text.slice(start + 1, end);
  return NEEDS_DECODING.test(inner) ? decodeToken(text.slice(start, end + 1), bytes) : inner;
}

function decodeToken(token: string, bytes: boolean): string {
  const source = bytes ? Buffer.from(token, 'latin1').toString('utf8') : token;
  try {
    const value: unknown = JSON.parse(source);
    if (typeof value === 'string') return value;
  } catch {
    // A broken escape: fall through and use the text between the quotes as it is.
  }
  return source.slice(1, -1);
}

function encodeString(value: string, bytes: boolean): string {
  const json = JSON.stringify(value);
  return bytes ? Buffer.from(json, 'utf8').toString('latin1') : json;
}

function onlySpace(text: LexText, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}
