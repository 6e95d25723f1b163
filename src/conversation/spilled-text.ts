// Large texts of the assembly kept outside memory (docs/decisions.md, decision 83). A session
// holds every answer, tool result and long prompt it has seen once; with them in memory the
// engine grew with the content of the day's sessions. A spilled block is a copy whose large
// fields are getters that read the text back: the assembler compares and hashes a few entries per
// call, and views copy the getter rather than the text (copyField), so the text comes back into
// memory only while something reads it (a view serialised, a search corpus built), then goes.
// Where the texts go is the caller's (src/conversation does no I/O): a TextSpill.
import type { ContentBlock } from '../llm/llm-call';

export interface TextSpill {
  /** Keeps `text` elsewhere; returns how to read it back, or undefined when it stays in memory. */
  put(text: string): (() => string) | undefined;
  /** Texts shorter than this stay in memory (default SPILL_MIN_CHARS). */
  readonly minChars?: number;
}

/**
 * Shorter texts stay in memory: a getter and its reader cost about what 100 characters do, and
 * most entries (prompts, short answers, tool calls) are short.
 */
export const SPILL_MIN_CHARS = 2048;
/**
 * The start of a spilled text, kept to classify it without reading it back: every scaffolding
 * pattern (scaffolding.ts) is decided by the first characters of the text.
 */
const HEAD_CHARS = 512;

/** The string fields of each block type that can be large. */
const SPILLABLE: { readonly [T in ContentBlock['type']]?: readonly string[] } = {
  text: ['text'],
  thinking: ['text', 'signature'],
  'redacted-thinking': ['data'],
  reasoning: ['summary'],
  'tool-call': ['arguments'],
  'tool-result': ['output'],
  image: ['source'],
};

const spilled = new WeakSet<object>();
const withReaders = new WeakSet<object>();
const heads = new WeakMap<object, string>();

/** One setter per field name, shared by every spilled field of that name (thousands of them). */
const setters = new Map<string, (this: object, value: unknown) => void>();

/** Makes `key` a getter over `read`; assigning to it makes it a plain value again, as on any object. */
function lazyProperty(target: object, key: string, read: () => unknown): void {
  let set = setters.get(key);
  if (!set) {
    set = function (this: object, value: unknown) {
      Object.defineProperty(this, key, { value, writable: true, enumerable: true, configurable: true });
    };
    setters.set(key, set);
  }
  Object.defineProperty(target, key, { enumerable: true, configurable: true, get: read, set });
  withReaders.add(target);
}

/**
 * Whether an object has (or had) a spilled field: comparing such objects needs their fields'
 * descriptors (sameField), others compare by value alone.
 */
export function hasReaders(target: object): boolean {
  return withReaders.has(target);
}

/** Whether `source[key]` is a spilled text (a reader, never empty). */
export function isSpilledField(source: object, key: string): boolean {
  return Object.getOwnPropertyDescriptor(source, key)?.get !== undefined;
}

/**
 * The block with its large fields spilled: a copy, or the block itself when nothing is large
 * (or nothing could be spilled). A tool call's parsed `input` goes with its `arguments`.
 */
export function spillBlock<B extends ContentBlock>(block: B, spill: TextSpill | undefined): B {
  const keys = SPILLABLE[block.type];
  if (!spill || !keys || spilled.has(block)) return block;
  const source = block as unknown as Record<string, unknown>;
  const min = spill.minChars ?? SPILL_MIN_CHARS;
  const large = (key: string) => typeof source[key] === 'string' && (source[key] as string).length >= min;
  if (!keys.some(large)) return block;
  const copy: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(source)) {
    const value = source[key];
    const read = keys.includes(key) && large(key) ? spill.put(value as string)
      : key === 'input' && block.type === 'tool-call' && value !== undefined && large('arguments') ? parsedReader(spill, value)
        : undefined;
    if (read) {
      lazyProperty(copy, key, read);
      any = true;
    } else {
      copy[key] = value;
    }
  }
  if (!any) return block;
  spilled.add(copy);
  if (block.type === 'text') heads.set(copy, detached(block.text.trimStart().slice(0, HEAD_CHARS)));
  return copy as unknown as B;
}

function parsedReader(spill: TextSpill, value: unknown): (() => unknown) | undefined {
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  const read = spill.put(json);
  return read ? () => JSON.parse(read()) as unknown : undefined;
}

/**
 * Spills one string field of an object the caller owns (a kept call's system prompt), or makes it
 * read through `shared`, the reader of an equal text spilled before. Returns the reader, if any.
 */
export function spillField<T extends object>(target: T, key: keyof T & string, spill: TextSpill | undefined, shared?: () => string): (() => string) | undefined {
  const value = (target as Record<string, unknown>)[key];
  if (!spill || typeof value !== 'string' || value.length < (spill.minChars ?? SPILL_MIN_CHARS)) return undefined;
  const read = shared ?? spill.put(value);
  if (read) lazyProperty(target, key, read);
  return read;
}

/**
 * True when `a[key]` and `b[key]` are known equal without reading them: the same string, or the
 * same spilled text. False means "not known", not "different".
 */
export function sameField(a: object, b: object, key: string): boolean {
  const x = Object.getOwnPropertyDescriptor(a, key);
  const y = Object.getOwnPropertyDescriptor(b, key);
  if (x?.get || y?.get) return x?.get === y?.get;
  return x?.value === y?.value;
}

export function isSpilled(block: object): boolean {
  return spilled.has(block);
}

/**
 * A text block's text for telling what kind of text it is: the start of it (leading white space
 * removed) when spilled, else the text itself. Never for showing or comparing content.
 */
export function leadingText(block: { text: string }): string {
  return heads.get(block) ?? block.text;
}

/** Whether `source[key]` is defined, without reading a spilled text back. */
export function definedField(source: object, key: string): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(source, key);
  return descriptor !== undefined && (descriptor.get !== undefined || descriptor.value !== undefined);
}

/**
 * `target[key] = source[sourceKey]`, except that a spilled field is copied as its getter, so a
 * view holds a reference to the text rather than the text.
 */
export function copyField(target: object, key: string, source: object, sourceKey: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(source, sourceKey);
  if (descriptor?.get) lazyProperty(target, key, descriptor.get);
  else (target as Record<string, unknown>)[key] = (source as Record<string, unknown>)[sourceKey];
}

/** Derived getters, one per spilled text and derivation, so that views built twice share them. */
const derivedGetters = new WeakMap<(text: string) => string, WeakMap<() => unknown, () => string>>();
const derivedValues = new WeakMap<(text: string) => string, WeakMap<() => unknown, string>>();

/**
 * `target[key] = derive(source[sourceKey])`; for a spilled text, a getter that derives when read
 * (the same getter every time for the same text and `derive`, so equal views compare equal).
 */
export function derivedField(target: object, key: string, source: object, sourceKey: string, derive: (text: string) => string): void {
  const read = Object.getOwnPropertyDescriptor(source, sourceKey)?.get;
  if (!read) {
    (target as Record<string, unknown>)[key] = derive((source as Record<string, string>)[sourceKey]!);
    return;
  }
  let byText = derivedGetters.get(derive);
  if (!byText) derivedGetters.set(derive, (byText = new WeakMap()));
  let getter = byText.get(read);
  if (!getter) byText.set(read, (getter = () => derive(read() as string)));
  lazyProperty(target, key, getter);
}

/** `derive(source[key])`, worked out once per spilled text (a short summary of a long one). */
export function derivedValue(source: object, key: string, derive: (text: string) => string): string {
  const read = Object.getOwnPropertyDescriptor(source, key)?.get;
  if (!read) return derive((source as Record<string, string>)[key]!);
  let byText = derivedValues.get(derive);
  if (!byText) derivedValues.set(derive, (byText = new WeakMap()));
  let value = byText.get(read);
  if (value === undefined) byText.set(read, (value = detached(derive(read() as string))));
  return value;
}

/**
 * A copy of `text` that shares no memory with the string it was cut from. V8 makes a slice (and
 * often a trim or a replace that changed nothing) point into its parent, which it then keeps
 * whole: a 512-character head kept the 80 KB answer it was cut from. JSON.parse always makes
 * a new string.
 */
export function detached(text: string): string {
  return text.length === 0 ? '' : (JSON.parse(JSON.stringify(text)) as string);
}
