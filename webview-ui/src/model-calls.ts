// A turn's model calls (decision 68): what each request changed since the thread's previous call,
// its prompt-cache figures and, on a cache break, why. Folded under the turn's head; built when opened.
import type { ViewCall } from '../../src/shared/conversation-view-model';
import { el } from './dom';
import { setFoldKey } from './folds';

/** main.ts's folding component: builds its body when first opened. */
export type Collapsible = (heading: string, body: () => Node[], open?: boolean, description?: string) => HTMLElement;

/** The turn's model calls, folded: what each request changed, its cache figures, and on a break why. */
export function renderCalls(calls: readonly ViewCall[], collapsible: Collapsible): HTMLElement {
  const broken = calls.find((c) => c.cacheBreak);
  const description = broken ? `cache break: ${broken.cacheBreak!.causes}` : calls[calls.length - 1]!.changes;
  const c = setFoldKey(collapsible(`Model calls (${calls.length})`, () => calls.map((call) => renderCall(call, collapsible)), false, description), 'calls');
  return el('div', { class: broken ? 'block calls cache-break' : 'block calls' }, c);
}

function renderCall(call: ViewCall, collapsible: Collapsible): HTMLElement {
  const box = el('div', { class: 'call' },
    el('div', { class: 'call-head' }, el('span', { class: 'label' }, `Call ${call.callId}`), el('span', {}, call.changes)));
  if (call.cache) box.append(el('div', { class: 'muted' }, call.cache));
  if (call.cacheBreak) box.append(el('div', { class: 'cache-break-text' }, el('span', { class: 'codicon codicon-warning' }), ` ${call.cacheBreak.explanation}`));
  if (call.rewritten) box.append(el('div', { class: 'muted' }, call.rewritten));
  if (call.added.length > 0) {
    box.append(el('ul', { class: 'added' }, ...call.added.map((m) => el('li', {}, el('span', { class: 'label' }, m.role), ` ${m.preview}`))));
  }
  for (const d of call.diffs) box.append(setFoldKey(collapsible(`${d.label} changed`, () => [diffView(d.text)]), `diff:${call.callId}:${d.label}`));
  return box;
}

/** A unified diff with its added and removed lines coloured by the theme. */
function diffView(text: string): HTMLElement {
  return el('pre', { class: 'diff' }, ...text.split('\n').map((line) =>
    el('span', { class: line.startsWith('+') ? 'diff-add' : line.startsWith('-') ? 'diff-del' : line.startsWith('@@') ? 'diff-hunk' : '' }, `${line}\n`)));
}
