// Search across the sessions the engine shows (decision 71). Each session's searchable text (its
// corpus) is made from its detail once and kept while the session does not change, newest use
// first, up to a bound on the text held: so a query as the user types reads no file and
// re-dissects nothing, and a store of any size costs at most that bound in memory.
import { searchCorpus, searchPattern, sessionCorpus, sessionMatches, type SearchFilters, type SearchHit, type SessionCorpus } from '../conversation/session-search';
import type { SessionDetail, SessionSummary } from '../conversation/types';

export interface SearchAnswer {
  /** The text sought: the query without the filter words it may have carried. */
  query: string;
  hits: SearchHit[];
  /** Sessions whose turns were searched (those the filters let through). */
  sessionsSearched: number;
  /** More turns matched than the limit: the newest sessions' come first. */
  truncated: boolean;
}

/** Characters of session text kept between queries (UTF-16: about twice that in bytes). */
const DEFAULT_MAX_CHARS = 32 * 1024 * 1024;

export class SessionSearchIndex {
  private readonly corpora = new Map<string, { key: string; corpus: SessionCorpus }>();
  private chars = 0;

  constructor(private readonly maxChars = DEFAULT_MAX_CHARS) {}

  async search(
    sessions: readonly SessionSummary[], query: string, filters: SearchFilters, limit: number,
    detail: (id: string) => Promise<SessionDetail | undefined>,
  ): Promise<SearchAnswer> {
    const pattern = searchPattern(query);
    if (!pattern) return { query, hits: [], sessionsSearched: 0, truncated: false };
    const wanted = sessions.filter((s) => sessionMatches(s, filters)).sort((a, b) => b.endedAt - a.endedAt);
    const hits: SearchHit[] = [];
    for (const summary of wanted) {
      const corpus = await this.corpus(summary, detail);
      if (!corpus) continue;
      hits.push(...searchCorpus(corpus, pattern, filters));
      if (hits.length > limit) return { query, hits: hits.slice(0, limit), sessionsSearched: wanted.length, truncated: true };
    }
    return { query, hits, sessionsSearched: wanted.length, truncated: false };
  }

  private async corpus(summary: SessionSummary, detail: (id: string) => Promise<SessionDetail | undefined>): Promise<SessionCorpus | undefined> {
    const key = `${summary.callCount}:${summary.endedAt}:${summary.assemblerVersion}`;
    const kept = this.corpora.get(summary.id);
    if (kept) {
      this.corpora.delete(summary.id);
      if (kept.key === key) {
        this.corpora.set(summary.id, kept);
        return kept.corpus;
      }
      this.chars -= kept.corpus.chars;
    }
    const d = await detail(summary.id);
    if (!d) return undefined;
    const corpus = sessionCorpus(d);
    this.corpora.set(summary.id, { key, corpus });
    this.chars += corpus.chars;
    for (const [id, entry] of this.corpora) {
      if (this.chars <= this.maxChars || id === summary.id) break;
      this.corpora.delete(id);
      this.chars -= entry.corpus.chars;
    }
    return corpus;
  }
}
