// Which part of a saved assembly a reopened engine can go on from (docs/decisions.md, decision 94).
// A session idle for longer than every window in which a call is linked to a session it does not
// name is taken up set aside, its calls unread. The others are read again from their first
// exchange on, and with them every session that has a call from that exchange on, so that what is
// read again is the whole of each session it touches, in the order it was first read.
import { resolveAlias, type AssemblyResume, type ColdSessionRecord } from '../conversation/assembler';
import type { SessionSummary } from '../conversation/types';
import type { LoadedIndex } from './derived-sessions';

export interface ResumePlan {
  /** The live assembly starts after this exchange. */
  afterExchangeId: number;
  /** The sessions taken up set aside, and their summaries (in the index's order). */
  assembly: AssemblyResume;
  summaries: SessionSummary[];
  /** Calls those sessions hold. */
  calls: number;
  /** Sessions read again: shown from the index until the live assembly has caught up with them. */
  reread: SessionSummary[];
  /** Sessions left out: retention has deleted their calls since. */
  gone: number;
}

/**
 * The plan, or undefined when nothing can be taken up: no saved assembly, or every session to be
 * read again.
 * `exchangeKept(id)`: whether the store still holds that exchange.
 */
export function planResume(loaded: LoadedIndex, idleSince: number, exchangeKept: (id: number) => boolean): ResumePlan | undefined {
  const saved = loaded.resume;
  if (!saved) return undefined;
  const span = new Map(saved.assembly.sessions.map((r) => [r.id, exchangeSpan(r)]));
  let cut = saved.afterExchangeId + 1;
  // An exchange open at the save is read again whole, and with it every session it has a call in.
  for (const id of saved.open ?? []) cut = Math.min(cut, id);
  for (const s of loaded.sessions) if (s.endedAt >= idleSince) cut = Math.min(cut, span.get(s.id)?.first ?? 0);
  // A session with a call from the cut on is read again whole: the cut moves back to its first call.
  for (let moved = true; moved;) {
    moved = false;
    for (const { first, last } of span.values()) {
      if (last >= cut && first < cut) {
        cut = first;
        moved = true;
      }
    }
  }
  if (cut <= 1) return undefined;
  const rereadIds = new Set([...span].filter(([, s]) => s.last >= cut).map(([id]) => id));
  const records = saved.assembly.sessions;
  if (rereadIds.size === records.length) return undefined;
  const aliases = new Map(saved.assembly.aliases);
  const resolve = (id: string) => resolveAlias(aliases, id);
  const anonymousCount = rewoundAnonymousCount(saved.assembly, rereadIds, resolve);
  if (!anonymousCount) return undefined;
  // Retention deletes the oldest first: a session whose newest call is gone has no call left.
  const gone = new Set(records.filter((r) => !rereadIds.has(r.id) && !exchangeKept(span.get(r.id)!.last)).map((r) => r.id));
  const cold = records.filter((r) => !rereadIds.has(r.id) && !gone.has(r.id));
  const summaries = loaded.sessions.filter((s) => !rereadIds.has(s.id) && !gone.has(s.id));
  return {
    afterExchangeId: cut - 1,
    // Merges into a session read again are made again as it is read.
    assembly: { sessions: cold, aliases: saved.assembly.aliases.filter(([from]) => !rereadIds.has(resolve(from))), anonymousCount },
    summaries,
    calls: loaded.calls - loaded.sessions.filter((s) => rereadIds.has(s.id) || gone.has(s.id)).reduce((n, s) => n + s.callCount, 0),
    reread: loaded.sessions.filter((s) => rereadIds.has(s.id)),
    gone: gone.size,
  };
}

/** The first and last exchange of a session's calls (call ids are `<exchangeId>` or `<exchangeId>:<n>`). */
function exchangeSpan(record: ColdSessionRecord): { first: number; last: number } {
  // A loop, not Math.min(...ids): a session of a few hundred thousand calls would overflow the stack.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const callId of record.callIds) {
    const id = Number.parseInt(callId, 10);
    if (!Number.isFinite(id)) continue;
    if (id < first) first = id;
    if (id > last) last = id;
  }
  // A record without a readable call id is read again (its span covers everything).
  return last >= first ? { first, last } : { first: 0, last: Number.POSITIVE_INFINITY };
}

/**
 * The numbering of anonymous sessions as it was before the first of those read again was made:
 * each is made again, in the same order, as its calls are read (decision 96). Anonymous sessions
 * are numbered as they are made, and every session kept begins before the cut, every one read again
 * at or after it. Undefined when an anonymous session read again cannot be told by its id.
 */
function rewoundAnonymousCount(assembly: AssemblyResume, rereadIds: ReadonlySet<string>, resolve: (id: string) => string): AssemblyResume['anonymousCount'] | undefined {
  const made = new Set<string>();
  for (const r of assembly.sessions) {
    if (!rereadIds.has(r.id)) continue;
    const own = [r.id, ...r.mergedIds].filter(isAnonymousId);
    for (const id of own) made.add(id);
    if (r.anonymous && own.length === 0 && !assembly.aliases.some(([from]) => isAnonymousId(from) && resolve(from) === r.id)) return undefined;
  }
  for (const [from] of assembly.aliases) if (isAnonymousId(from) && rereadIds.has(resolve(from))) made.add(from);
  const count = new Map(assembly.anonymousCount);
  for (const id of made) {
    const client = id.slice('anon:'.length, id.lastIndexOf(':')) as AssemblyResume['anonymousCount'][number][0];
    const n = (count.get(client) ?? 0) - 1;
    if (n < 0) return undefined;
    count.set(client, n);
  }
  return [...count];
}

function isAnonymousId(id: string): boolean {
  return id.startsWith('anon:');
}
