// Whether bytes are valid JSON, read straight from the Buffer. The capture checks every JSON body.
// JSON.parse needs the whole body as one string (V8 puts a string of 128 KiB or more in its large
// object space, on fresh pages each time) and builds every value in it only for them to be dropped:
// a 133 KB body's check took 350 µs, this takes about 100 (docs/decisions.md, decision 90). It walks
// the bytes with the grammar of ECMA-404 and accepts exactly what JSON.parse accepts of the same
// bytes read as latin1. Only the verdict comes from here; an invalid body's message is JSON.parse's.

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const BRACKET_OPEN = 0x5b;
const BACKSLASH = 0x5c;
const BRACKET_CLOSE = 0x5d;
const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;

/** The escapes a JSON string may hold after a backslash (`u` is followed by four hex digits). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** JSON's whitespace (ECMA-404 §2): space, tab, line feed, carriage return. */
export const isSpace = (c: number): boolean => c === SPACE || c === LF || c === CR || c === TAB;
const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** Whether `bytes[from…]` is one JSON value with only whitespace around it. */
export function isValidJson(bytes: Uint8Array, from = 0): boolean {
  return new Validator(bytes).valid(from);
}

/** A string's first bytes are read one by one; past these, a word at a time. */
const BYTE_SCAN_BYTES = 16;

/** Past its first bytes, a string is read a word at a time for this many words; beyond, it is a long one. */
const WORD_SCAN_WORDS = 64;

const isSpecial = (c: number) => c < SPACE || c === QUOTE || c === BACKSLASH;

const bufferIndexOf = Buffer.prototype.indexOf;
/** Where `byte` is first found in `bytes` from `from` (memchr), or `bytes.length`. */
function indexOfByte(bytes: Uint8Array, byte: number, from: number): number {
  const at = bufferIndexOf.call(bytes, byte, from);
  return at < 0 ? bytes.length : at;
}

/** One document's check. Methods return the index after what they read, or -1 where it is not JSON. */
class Validator {
  /** The bytes as 32-bit words from the first aligned one (`wordsFrom`), made when a long string needs them. */
  private words: Uint32Array<ArrayBufferLike> | undefined;
  private wordsFrom = 0;
  /**
   * In long strings, the next quote and backslash at or after where each was last looked for
   * (`bytes.length` if none; -1 before the first search). Kept, since a long string with an escape
   * every few hundred bytes would otherwise search the rest of itself again after each escape.
   */
  private quote = -1;
  private backslash = -1;

  constructor(private readonly bytes: Uint8Array) {}

  valid(from: number): boolean {
    const bytes = this.bytes;
    // The containers open around the current value: true for an object, false for an array. An
    // explicit stack, so that deep nesting (hostile input) cannot overflow the call stack.
    const open: boolean[] = [];
    const n = bytes.length;
    let i = this.skipSpace(from);
    for (;;) {
      // A value starts at i.
      if (i >= n) return false;
      const c = bytes[i];
      if (c === BRACE_OPEN || c === BRACKET_OPEN) {
        i = this.skipSpace(i + 1);
        const closing = c === BRACE_OPEN ? BRACE_CLOSE : BRACKET_CLOSE;
        if (bytes[i] === closing) {
          i++;
        } else {
          open.push(c === BRACE_OPEN);
          if (c === BRACE_OPEN) {
            i = this.member(i);
            if (i < 0) return false;
          }
          continue;
        }
      } else {
        i = this.scalar(i);
        if (i < 0) return false;
      }
      // A value ended before i: a comma goes on to the next one, a bracket closes its container.
      for (;;) {
        i = this.skipSpace(i);
        if (open.length === 0) return i === n;
        const inObject = open[open.length - 1];
        const b = bytes[i];
        if (b === COMMA) {
          i = this.skipSpace(i + 1);
          if (inObject) {
            i = this.member(i);
            if (i < 0) return false;
          }
          break;
        }
        if (b !== (inObject ? BRACE_CLOSE : BRACKET_CLOSE)) return false;
        open.pop();
        i++;
      }
    }
  }

  /** An object member's key and colon at i; returns where its value starts. */
  private member(i: number): number {
    if (this.bytes[i] !== QUOTE) return -1;
    const end = this.string(i);
    if (end < 0) return -1;
    const colon = this.skipSpace(end);
    if (this.bytes[colon] !== COLON) return -1;
    return this.skipSpace(colon + 1);
  }

  /** A string, number or literal at i. */
  private scalar(i: number): number {
    const c = this.bytes[i];
    if (c === QUOTE) return this.string(i);
    if (c === MINUS || isDigit(c)) return this.number(i);
    if (c === 0x74) return this.literal(i, 'true');
    if (c === 0x66) return this.literal(i, 'false');
    if (c === 0x6e) return this.literal(i, 'null');
    return -1;
  }

  /** The string opened at i, through its closing quote. */
  private string(i: number): number {
    const bytes = this.bytes;
    let k = i + 1;
    for (;;) {
      // Raw control characters are not allowed in a string (ECMA-404 §9); any byte from 0x20 up is,
      // UTF-8 or not (JSON.parse reads the latin1 view, one char per byte).
      const at = this.firstSpecial(k);
      if (at < 0 || bytes[at] < SPACE) return -1;
      if (bytes[at] === QUOTE) return at + 1;
      // A backslash: an escape.
      const e = bytes[at + 1];
      if (e === 0x75) {
        if (!(isHex(bytes[at + 2]) && isHex(bytes[at + 3]) && isHex(bytes[at + 4]) && isHex(bytes[at + 5]))) return -1;
        k = at + 6;
      } else if (SIMPLE_ESCAPES.has(e)) {
        k = at + 2;
      } else {
        return -1;
      }
    }
  }

  /**
   * The first byte from `from` that is a quote, a backslash or a control character (-1 if none).
   * A string's first bytes are read one by one, the next few hundred four a word: whether a word
   * holds a byte below 0x20, 0x22 or 0x5c is three has-less/has-zero tests (Bit Twiddling Hacks),
   * and only a word that has one is read byte by byte. Past that, the string is a long one (base64,
   * most likely): the next quote and backslash are found natively (memchr; their places are kept,
   * so no byte is searched twice) and the bytes before them are only tested for a control
   * character, sixteen a turn (docs/decisions.md, decision 92).
   */
  private firstSpecial(from: number): number {
    const bytes = this.bytes;
    const n = bytes.length;
    const stop = Math.min(n, from + BYTE_SCAN_BYTES);
    let j = from;
    for (; j < stop; j++) if (isSpecial(bytes[j])) return j;
    if (j === n) return -1;
    const words = this.wordView();
    const wordsFrom = this.wordsFrom;
    for (; (j - wordsFrom) & 3; j++) if (isSpecial(bytes[j])) return j;
    const lastWord = Math.min(words.length, ((j - wordsFrom) >>> 2) + WORD_SCAN_WORDS);
    let w = (j - wordsFrom) >>> 2;
    for (; w < lastWord; w++) {
      const x = words[w];
      const q = x ^ 0x22222222;
      const b = x ^ 0x5c5c5c5c;
      if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) {
        const at = wordsFrom + w * 4;
        for (let c = at; c < at + 4; c++) if (isSpecial(bytes[c])) return c;
      }
    }
    j = wordsFrom + w * 4;
    if (w < words.length) return this.longString(j);
    for (; j < n; j++) if (isSpecial(bytes[j])) return j;
    return -1;
  }

  /** firstSpecial from `j` (word-aligned) in a long string. */
  private longString(j: number): number {
    const bytes = this.bytes;
    const n = bytes.length;
    if (this.quote < j) this.quote = indexOfByte(bytes, QUOTE, j);
    if (this.backslash < j) this.backslash = indexOfByte(bytes, BACKSLASH, j);
    const end = Math.min(this.quote, this.backslash);
    const words = this.wordView();
    const wordsFrom = this.wordsFrom;
    // Words wholly before `end`, four at a time; from the first four with a control byte, or the last
    // whole ones, byte by byte.
    const lastWord = Math.min(words.length, (end - wordsFrom) >>> 2);
    let w = (j - wordsFrom) >>> 2;
    for (; w + 4 <= lastWord; w += 4) {
      const a = words[w];
      const b = words[w + 1];
      const c = words[w + 2];
      const d = words[w + 3];
      if ((((a - 0x20202020) & ~a) | ((b - 0x20202020) & ~b) | ((c - 0x20202020) & ~c) | ((d - 0x20202020) & ~d)) & 0x80808080) break;
    }
    for (let k = wordsFrom + w * 4; k < end; k++) if (bytes[k] < SPACE) return k;
    return end === n ? -1 : end;
  }

  /** The bytes as 32-bit words from the first aligned one (`wordsFrom`). */
  private wordView(): Uint32Array<ArrayBufferLike> {
    if (!this.words) {
      const bytes = this.bytes;
      this.wordsFrom = (4 - (bytes.byteOffset & 3)) & 3;
      this.words = new Uint32Array(bytes.buffer, bytes.byteOffset + this.wordsFrom, Math.max(0, bytes.length - this.wordsFrom) >>> 2);
    }
    return this.words;
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at i. */
  private number(i: number): number {
    const bytes = this.bytes;
    let k = i;
    if (bytes[k] === MINUS) k++;
    if (bytes[k] === ZERO) {
      k++;
    } else if (isDigit(bytes[k])) {
      while (isDigit(bytes[k])) k++;
    } else {
      return -1;
    }
    if (bytes[k] === DOT) {
      k++;
      if (!isDigit(bytes[k])) return -1;
      while (isDigit(bytes[k])) k++;
    }
    if (bytes[k] === 0x65 || bytes[k] === 0x45) {
      k++;
      if (bytes[k] === 0x2b || bytes[k] === MINUS) k++;
      if (!isDigit(bytes[k])) return -1;
      while (isDigit(bytes[k])) k++;
    }
    return k;
  }

  private literal(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.bytes[i + k] !== word.charCodeAt(k)) return -1;
    return i + word.length;
  }

  private skipSpace(i: number): number {
    while (i < this.bytes.length && isSpace(this.bytes[i])) i++;
    return i;
  }
}
