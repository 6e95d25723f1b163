// Search within the conversation: which turns of a thread mention the query (prompt, text,
// thinking, tool names, arguments, results, scaffolding). Pure, for the webview and its tests.
import type { ViewBlock, ViewTurn } from './conversation-view-model';

export function blockText(b: ViewBlock): string {
  switch (b.kind) {
    case 'text': case 'thinking': case 'marker': return b.text;
    case 'tool': return [b.name, b.summary, b.arguments ?? '', b.output ?? ''].join('\n');
    case 'scaffolding': return b.items.map((i) => `${i.label}\n${i.text}`).join('\n');
  }
}

export function turnMatches(turn: ViewTurn, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  if (turn.prompt.toLowerCase().includes(q)) return true;
  return turn.blocks.some((b) => blockText(b).toLowerCase().includes(q));
}

export function filterTurns(turns: readonly ViewTurn[], query: string): ViewTurn[] {
  return query.trim() === '' ? [...turns] : turns.filter((t) => turnMatches(t, query));
}
