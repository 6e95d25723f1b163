// Equality of the JSON-like values the assembly's views are made of: a session's detail, a page's
// view model. What is equal here serialises to the same JSON, so a caller may keep what it made of
// the one for the other: the view patch (decision 76) and the session file (decision 100) do.
import { hasReaders, sameField } from './spilled-text';

/** Past this depth two values count as different: the caller then makes them again, which is always correct. */
const MAX_DEPTH = 64;

/**
 * Whether `a` and `b` are equal as JSON values. Strings shared with the assembled session compare
 * by reference, and spilled texts (decision 83) by their reader, so an unchanged turn costs little
 * more than a walk over its fields. Only arrays and plain objects are looked into: any other object
 * (a Date, a Map) is equal only to itself.
 */
export function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], bs[i], depth + 1)) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  // The same reader is the same text, unread.
  const spilled = hasReaders(ao) || hasReaders(bo);
  for (const k of keys) {
    if (!Object.hasOwn(bo, k)) return false;
    if (spilled && sameField(ao, bo, k)) continue;
    if (!sameValue(ao[k], bo[k], depth + 1)) return false;
  }
  return true;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
