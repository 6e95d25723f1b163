// Redaction of secret values in JSON text that leaves every other byte as it was.
// Parsing and re-serializing would change the bytes (spacing, escapes, number spelling, big
// integers), and the store must give back the body as it was sent, minus the secrets. So this
// is a tolerant lexer: it finds `"key": "value"` pairs wherever they are (any depth, invalid or
// truncated JSON, JSON inside SSE `data:` lines, JSON encoded inside a JSON string) and replaces
// only the value's string token.

export interface JsonRedactionRules {
  /** Whether the string value of this key (decoded) is a secret. */
  isSecretKey(key: string): boolean;
  /** The replacement for a secret value of that key. */
  replacement(key: string, value: string): string;
  /** A cheap test: could this text hold a secret key at all? (Asked before decoding JSON held in a string.) */
  mightContainSecretKey(text: string): boolean;
  /** Whether a value is already a redaction marker (so redacting twice changes nothing). */
  isRedacted(value: string): boolean;
}

const BACKSLASH = 92;
const COLON = 58;

/**
 * Returns `text` with the string values of secret keys replaced.
 * With `bytes` set, `text` is a latin1 view of raw bytes (one char per byte, so nothing is
 * lost); tokens are then read as UTF-8 and replacements written back as UTF-8 bytes.
 */
export function redactJsonText(text: string, rules: JsonRedactionRules, bytes = false): string {
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
    } else if (escapedQuote && rules.mightContainSecretKey(text.slice(start, end + 1))) {
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
  if (copied === 0) return text;
  out.push(text.slice(copied));
  return out.join('');
}

/** The closing quote of the string opened at `start` (-1 if none), and whether an escaped quote came before it. */
function closingQuote(text: string, start: number): { end: number; escapedQuote: boolean } {
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
function readKey(text: string, start: number, end: number, bytes: boolean): string {
  const inner = text.slice(start + 1, end);
  return /[\\\u0080-\uffff]/.test(inner) ? decodeToken(text.slice(start, end + 1), bytes) : inner;
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

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function onlySpace(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}
