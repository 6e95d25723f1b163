// The Raw calls tab: the thread's LLM calls in order, each folded; opening one asks the host for
// its raw exchange (`requestRaw`, lazily: raw data is big) and draws the answer when it comes.
import type { ViewThread } from '../../src/shared/conversation-view-model';
import type { RawCallView } from '../../src/shared/raw-call';
import { el } from './dom';
import { renderRawCall } from './raw-call-render';
import type { Widgets } from './widgets';

type Answer = { view: RawCallView } | { error: string };

export class RawCallsTab {
  /** Answers kept for the panel's life: a call's raw data never changes once it is assembled. */
  private readonly answers = new Map<string, Answer>();
  /** Bodies waiting for an answer, by call id. */
  private readonly waiting = new Map<string, HTMLElement[]>();
  private drawnThread = '';
  private drawnCalls: string[] = [];
  private list = el('div', { class: 'raw-calls' });

  constructor(private readonly box: HTMLElement, private readonly ui: Widgets, private readonly request: (callId: string) => void) {}

  /** Draws the thread's calls; a live update of the same thread only appends the new ones. */
  render(thread: ViewThread | undefined): void {
    const calls = (thread?.turns ?? []).flatMap((t) => t.llmCallIds.map((id) => ({ id, turn: t.index })));
    const ids = calls.map((c) => c.id);
    const sameThread = thread !== undefined && thread.id === this.drawnThread;
    if (sameThread && this.drawnCalls.length > 0 && this.drawnCalls.every((id, i) => ids[i] === id)) {
      if (ids.length === this.drawnCalls.length) return;
      for (const c of calls.slice(this.drawnCalls.length)) this.list.append(this.call(c.id, c.turn));
      this.drawnCalls = ids;
      return;
    }
    this.drawnThread = thread?.id ?? '';
    this.drawnCalls = ids;
    this.waiting.clear();
    if (calls.length === 0) {
      this.box.replaceChildren(el('p', { class: 'empty' }, 'No model calls in this thread.'));
      return;
    }
    this.list = el('div', { class: 'raw-calls' }, ...calls.map((c) => this.call(c.id, c.turn)));
    this.box.replaceChildren(
      el('p', { class: 'muted' }, 'Each model call as captured (secrets redacted): headers, decoded bodies, SSE events and WebSocket messages in order. Open one to load it.'),
      this.list,
    );
  }

  /** The host's answer to a `requestRaw`. */
  receive(callId: string, view: RawCallView | undefined, error: string | undefined): void {
    const answer: Answer = view ? { view } : { error: error ?? 'No data.' };
    this.answers.set(callId, answer);
    for (const body of this.waiting.get(callId) ?? []) this.fill(body, answer);
    this.waiting.delete(callId);
  }

  private call(callId: string, turn: number): HTMLElement {
    // Not ui.collapsible: that one builds every body at once while a search is active, which
    // here would ask the host for every call of the thread.
    const c = el('vscode-collapsible', { heading: `Call ${callId}`, description: `turn ${turn + 1}` });
    let built = false;
    c.addEventListener('vsc-collapsible-toggle', () => {
      if (built) return;
      built = true;
      const body = el('div', { class: 'raw-call' });
      const known = this.answers.get(callId);
      if (known) {
        this.fill(body, known);
      } else {
        body.append(el('p', { class: 'muted' }, 'Loading…'));
        this.waiting.set(callId, [...(this.waiting.get(callId) ?? []), body]);
        this.request(callId);
      }
      c.append(body);
    });
    return c;
  }

  private fill(body: HTMLElement, answer: Answer): void {
    if ('error' in answer) body.replaceChildren(el('p', { class: 'error-text' }, answer.error));
    else body.replaceChildren(...renderRawCall(answer.view, this.ui));
  }
}
