// `llm-capture search QUERY`: the turns of every captured session that mention QUERY (decision 71).
// Its --json output is part of the contract in docs/cli.md. It reads the sessions VS Code's engine saved
// beside the store when they are current, and assembles the store itself otherwise.
import { assembleSessions } from '../app/session-index';
import { searchCorpus, searchPattern, sessionCorpus, sessionMatches, type SearchFilters, type SearchHit } from '../conversation/session-search';
import type { SessionDetail, SessionSummary } from '../conversation/types';
import { DerivedSessions } from '../engine/derived-sessions';
import type { CaptureStore } from '../store';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export async function searchCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    'data-dir': { type: 'string' }, json: { type: 'boolean' }, client: { type: 'string' }, model: { type: 'string' },
    since: { type: 'string' }, until: { type: 'string' }, errors: { type: 'boolean' }, limit: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('search needs exactly one QUERY (quote it when it has spaces)');
  const pattern = searchPattern(positionals[0]!);
  if (!pattern) throw new UsageError('the QUERY is empty');
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit takes a whole number of 1 or more, not "${values.limit}"`);
  const filters: SearchFilters = {
    ...(values.client !== undefined ? { client: values.client } : {}), ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.since !== undefined ? { since: dateArg('--since', values.since) } : {}),
    ...(values.until !== undefined ? { until: dateArg('--until', values.until) } : {}),
    ...(values.errors ? { errors: true } : {}),
  };
  const dataDir = resolveDataDir(values['data-dir']);
  const hits = await withStore(dataDir, 'reader', async (store) => {
    const sessions = await storedSessions(dataDir, store) ?? assembled(store);
    const found: SearchHit[] = [];
    for (const summary of sessions.summaries.filter((s) => sessionMatches(s, filters)).sort((a, b) => b.endedAt - a.endedAt)) {
      const detail = await sessions.detail(summary.id);
      if (detail) found.push(...searchCorpus(sessionCorpus(detail), pattern, filters));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(hits, null, 2)}\n`);
    return;
  }
  if (hits.length === 0) process.stdout.write(`nothing captured mentions "${positionals[0]}"\n`);
  for (const h of hits) process.stdout.write(`${hitLine(h)}\n`);
}

interface Sessions {
  summaries: SessionSummary[];
  detail(id: string): Promise<SessionDetail | undefined> | SessionDetail | undefined;
}

/**
 * The sessions as VS Code's engine last saved them beside the store (decision 43), when that index
 * holds every exchange stored and each session's file is there: no call is dissected then.
 */
async function storedSessions(dataDir: string, store: CaptureStore): Promise<Sessions | undefined> {
  const derived = new DerivedSessions(dataDir).prefetch();
  const loaded = await derived.load((id) => store.getExchangeSummary(id)?.startedAt);
  if (!loaded || store.listExchanges({ limit: 1 }).items[0]?.id !== loaded.lastExchangeId) return undefined;
  const details = new Map<string, SessionDetail>();
  for (const s of loaded.sessions) {
    const d = await derived.detail(s.id, false);
    if (!d) return undefined;
    details.set(s.id, d);
  }
  return { summaries: loaded.sessions, detail: (id) => details.get(id) };
}

/** Every stored call dissected and assembled, as `sessions` and `show` do. */
function assembled(store: CaptureStore): Sessions {
  const assembler = assembleSessions(store);
  return { summaries: assembler.sessions(), detail: (id) => assembler.session(id) };
}

/** A date (2026-12-03) or a time (2026-12-03T14:00) as ms since the epoch; a local date is the start of that day. */
export function dateArg(name: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${name} takes a date such as 2026-12-03 or 2026-12-03T14:00, not "${value}"`);
  return ms;
}

function hitLine(h: SearchHit): string {
  const when = new Date(h.startedAt).toISOString().replace('T', ' ').slice(0, 16);
  const thread = h.threadKind === 'main' ? '' : ` ${h.threadId}`;
  return `${h.sessionId.slice(0, 8)}  ${when}  ${h.client}${thread}  turn ${h.turnIndex + 1}  ${h.field}: ${h.snippet}`;
}
