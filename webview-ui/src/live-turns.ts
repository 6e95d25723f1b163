// The calls still streaming, drawn after the last turn of their thread with a "streaming…"
// marker. Each `live` message replaces only this box's content; the turns above are left alone.
// Captured text goes in through the inert helpers of ./dom (textContent, or safe Markdown).
import type { ViewBlock, ViewLiveTurn } from '../../src/shared/conversation-view-model';
import { el, markdown, pre } from './dom';

export class LiveTurns {
  private turns: ViewLiveTurn[] = [];
  /** What the box shows now (JSON of the turns drawn), so that an unchanged state is not redrawn. */
  private drawn = '[]';

  constructor(readonly box: HTMLElement) {}

  set(turns: ViewLiveTurn[]): void {
    this.turns = turns;
  }

  /** The previews as the host last sent them (what its next changes apply to). */
  get current(): readonly ViewLiveTurn[] {
    return this.turns;
  }

  /**
   * Draws the live turns whose home is the thread on screen; `home` says where a turn goes (its
   * thread hint when the view knows that thread, else the main thread). Nothing when `visible` is
   * false (a search is filtering the turns, or earlier turns are still to be paged in).
   */
  show(threadId: string, home: (turn: ViewLiveTurn) => string | undefined, visible: boolean): void {
    const mine = visible ? this.turns.filter((t) => home(t) === threadId) : [];
    const key = JSON.stringify(mine);
    if (key === this.drawn) return;
    this.drawn = key;
    this.box.replaceChildren(...mine.map(renderLiveTurn));
  }
}

function renderLiveTurn(turn: ViewLiveTurn): HTMLElement {
  const head = el('div', { class: 'turn-head' },
    el('span', { class: 'turn-title' }, el('span', { class: 'codicon codicon-loading codicon-modifier-spin' }), ' streaming…'),
    el('span', { class: 'turn-time' }, new Date(turn.startedAt).toLocaleString()),
    el('span', { class: 'turn-stats' }, turn.status),
  );
  const box = el('section', { class: 'turn live', 'data-call-id': turn.callId, 'aria-busy': 'true' }, head);
  if (turn.blocks.length === 0) box.append(el('p', { class: 'empty' }, 'Waiting for the answer…'));
  for (const b of turn.blocks) box.append(renderLiveBlock(b));
  return box;
}

/** Like a finished turn's blocks, but unfolded: the point is to watch them grow. */
function renderLiveBlock(b: ViewBlock): HTMLElement {
  const head = (label: string, detail?: string) => el('div', { class: 'block-head' },
    el('span', { class: 'role' }, label), detail ? el('span', { class: 'muted' }, detail) : undefined);
  switch (b.kind) {
    case 'text':
      return el('div', { class: `block ${b.role}` }, head('Assistant'), b.role === 'assistant' ? markdown(b.text) : pre(b.text, 'prompt'));
    case 'thinking':
      return el('div', { class: 'block thinking' }, head(b.redacted ? 'Thinking (encrypted or redacted)' : 'Thinking'), pre(b.text, 'thinking-text'));
    case 'tool':
      // The arguments as they stream: JSON cut mid-way is shown as it is.
      return el('div', { class: 'block tool' }, head(b.name, b.summary), pre(b.arguments ?? '', 'json'));
    case 'scaffolding':
      return el('div', { class: 'block scaffolding' }, ...b.items.flatMap((i) => [head(i.label), pre(i.text, 'output')]));
    case 'marker':
      return el('div', { class: 'block marker' }, b.text);
  }
}
