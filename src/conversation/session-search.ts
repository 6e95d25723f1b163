// Search across sessions (decision 71): which turns mention the query, in their prompt, the model's
// text and thinking, tool names, arguments and results, injected context, or their thread's system
// prompt, with filters on the session (client, model, time) and on errors. Pure: session details
// in, hits out; the engine and the CLI decide where the details come from.
import type { SessionDetail, SessionSummary, Step, Thread } from './types';

export interface SearchFilters {
  client?: string;
  /** A substring of the model's id (`opus` matches `claude-opus-4-8`). */
  model?: string;
  /** Sessions active at or after / before these times (ms since the epoch). */
  since?: number;
  until?: number;
  /** Only turns with a failed tool call or a call that ended in an error. */
  errors?: boolean;
}

export type SearchField = 'prompt' | 'text' | 'thinking' | 'tool' | 'arguments' | 'result' | 'context' | 'system prompt';

export interface SearchHit {
  sessionId: string;
  title: string;
  client: string;
  model?: string;
  threadId: string;
  threadKind: Thread['kind'];
  turnIndex: number;
  startedAt: number;
  /** Where in the turn the first match is. */
  field: SearchField;
  /** The match with some words around it, on one line. */
  snippet: string;
  /** Matches in the turn (each field counted once per step). */
  matches: number;
}

const SNIPPET_AROUND = 60;

/**
 * A query typed in one box, with its filters as words: `client:codex`, `model:opus`,
 * `since:2026-12-01`, `until:2026-12-03`, `errors:` (or `is:error`). What is left is the text sought.
 */
export function parseSearchText(text: string): { query: string; filters: SearchFilters } {
  const filters: SearchFilters = {};
  const rest: string[] = [];
  for (const word of text.trim().split(/\s+/)) {
    const m = /^(client|model|since|until|errors|is):(.*)$/i.exec(word);
    const key = m?.[1]!.toLowerCase();
    const value = m?.[2] ?? '';
    if (key === 'client' && value) filters.client = value;
    else if (key === 'model' && value) filters.model = value;
    else if ((key === 'since' || key === 'until') && !Number.isNaN(Date.parse(value))) filters[key] = Date.parse(value);
    else if (key === 'errors' || (key === 'is' && /^errors?$/i.test(value))) filters.errors = true;
    else rest.push(word);
  }
  return { query: rest.join(' '), filters };
}

/** The session passes the filters that its summary can decide. */
export function sessionMatches(s: SessionSummary, f: SearchFilters): boolean {
  if (f.client !== undefined && s.client !== f.client) return false;
  if (f.model !== undefined && !(s.model ?? '').toLowerCase().includes(f.model.toLowerCase())) return false;
  if (f.since !== undefined && s.endedAt < f.since) return false;
  if (f.until !== undefined && s.startedAt > f.until) return false;
  return true;
}

function stepFields(step: Step): Array<[SearchField, string | undefined]> {
  if (step.scaffolding) return [['context', step.text ?? step.output]];
  switch (step.type) {
    case 'text': return [['text', step.text]];
    case 'thinking': return [['thinking', step.text]];
    case 'tool_call': return [['tool', step.name], ['arguments', step.arguments]];
    case 'tool_result': return [['result', step.output]];
  }
}

/** A turn's searchable text, field by field; the engine keeps these for the sessions it searched last. */
export interface CorpusTurn {
  threadId: string;
  threadKind: Thread['kind'];
  turnIndex: number;
  startedAt: number;
  failed: boolean;
  fields: Array<{ field: SearchField; text: string }>;
}

export interface SessionCorpus {
  sessionId: string;
  title: string;
  client: string;
  model?: string;
  turns: CorpusTurn[];
  /** Characters of text held, to bound what a cache of corpora keeps. */
  chars: number;
}

export function sessionCorpus(detail: SessionDetail): SessionCorpus {
  const turns: CorpusTurn[] = [];
  let chars = 0;
  for (const thread of detail.threads) {
    thread.turns.forEach((turn, i) => {
      const fields: CorpusTurn['fields'] = [];
      const add = (field: SearchField, text: string | undefined) => {
        if (!text) return;
        fields.push({ field, text });
        chars += text.length;
      };
      add('prompt', turn.prompt);
      for (const step of turn.steps) for (const [field, text] of stepFields(step)) add(field, text);
      // The thread's system prompt is searched once, with its first turn.
      if (i === 0) add('system prompt', thread.systemPrompt);
      turns.push({ threadId: thread.id, threadKind: thread.kind, turnIndex: turn.index, startedAt: turn.startedAt, failed: turn.steps.some((s) => s.isError === true), fields });
    });
  }
  const s = detail.summary;
  return { sessionId: detail.id, title: s.title, client: s.client, ...(s.model !== undefined ? { model: s.model } : {}), turns, chars };
}

function snippet(text: string, at: number, length: number): string {
  const start = Math.max(0, at - SNIPPET_AROUND);
  const end = Math.min(text.length, at + length + SNIPPET_AROUND);
  const line = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${line}${end < text.length ? '…' : ''}`;
}

/** The query as a case-insensitive literal; undefined for one of only spaces (it matches nothing). */
export function searchPattern(query: string): RegExp | undefined {
  const q = query.trim();
  return q === '' ? undefined : new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
}

/** Every turn of the session that matches, in thread order. */
export function searchCorpus(corpus: SessionCorpus, pattern: RegExp, filters: SearchFilters = {}): SearchHit[] {
  const hits: SearchHit[] = [];
  for (const turn of corpus.turns) {
    if (filters.errors && !turn.failed) continue;
    let first: { field: SearchField; text: string; at: number; length: number } | undefined;
    let matches = 0;
    for (const { field, text } of turn.fields) {
      const m = pattern.exec(text);
      if (!m) continue;
      matches++;
      first ??= { field, text, at: m.index, length: m[0].length };
    }
    if (!first) continue;
    hits.push({
      sessionId: corpus.sessionId, title: corpus.title, client: corpus.client, ...(corpus.model !== undefined ? { model: corpus.model } : {}),
      threadId: turn.threadId, threadKind: turn.threadKind, turnIndex: turn.turnIndex, startedAt: turn.startedAt,
      field: first.field, snippet: snippet(first.text, first.at, first.length), matches,
    });
  }
  return hits;
}

export function searchSession(detail: SessionDetail, query: string, filters: SearchFilters = {}): SearchHit[] {
  const pattern = searchPattern(query);
  return pattern ? searchCorpus(sessionCorpus(detail), pattern, filters) : [];
}
