// A large document's JSON text a piece at a time, so that writing it never holds it as one string
// or one buffer. A session's detail runs to megabytes; built whole at every save, each one was a
// multi-megabyte allocation that, once freed, the C allocator kept (docs/decisions.md, decision 81).

/**
 * JSON text of `value` in pieces whose concatenation equals `JSON.stringify(value)`: arrays and
 * plain objects are opened down to `depth` levels; anything deeper, and any other object (a date,
 * a boxed string, a map), is stringified whole. A cycle throws, as JSON.stringify does.
 */
export function* jsonPieces(value: unknown, depth: number): Generator<string> {
  if (depth <= 0 || value === null || typeof value !== 'object' || !(Array.isArray(value) || isPlain(value))) {
    // JSON.stringify gives undefined for undefined, functions and symbols: null where they stand
    // in an array, which is the only place they reach here (object keys holding them are skipped).
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      yield* jsonPieces(value[i], depth - 1);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* jsonPieces(v, depth - 1);
  }
  yield '}';
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** Joins small pieces into strings of at least `size` characters (the last may be shorter). */
export function* joinedPieces(pieces: Iterable<string>, size: number): Generator<string> {
  let held: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    held.push(piece);
    length += piece.length;
    if (length >= size) {
      yield held.join('');
      held = [];
      length = 0;
    }
  }
  if (held.length > 0) yield held.join('');
}
