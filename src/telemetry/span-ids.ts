// Trace and span ids derived from what was captured, never random: the same session always gives
// the same trace, and the same call, tool call or thread the same span. So spans built again after
// a restart, or sent again by `llm-capture export --otlp`, keep their ids and their parents
// (backends that deduplicate by id see one span), and children may be sent before their parent.
import { createHash } from 'node:crypto';

function digest(parts: readonly string[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest();
}

/** 32 hex digits; never all zero (an invalid id in OTLP). */
export function traceIdFor(sessionId: string): string {
  return nonZero(digest(['trace', sessionId]).subarray(0, 16).toString('hex'));
}

/** 16 hex digits for one span of a session, named by its kind and key. */
export function spanIdFor(sessionId: string, kind: 'call' | 'tool' | 'agent', key: string): string {
  return nonZero(digest(['span', sessionId, kind, key]).subarray(0, 8).toString('hex'));
}

function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}
