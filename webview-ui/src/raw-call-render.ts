// Draws one RawCallView: request line, timings, recorded problems, headers, bodies, and the SSE
// events or WebSocket messages in order. Everything captured goes in as text (el/pre).
import {
  bodyNote, formatBytes, sseEventNotes, sseEventText, timingLine, type RawBody, type RawCallView, type RawSseEvent, type RawWsMessage,
} from '../../src/shared/raw-call';
import { el, pre } from './dom';
import type { Widgets } from './widgets';

export function renderRawCall(v: RawCallView, ui: Widgets): Node[] {
  const status = v.status !== undefined ? `${v.status}${v.statusMessage ? ` ${v.statusMessage}` : ''}` : 'no response';
  const out: Node[] = [
    el('div', { class: 'block-head' },
      el('span', { class: 'raw-request-line' }, `${v.method} ${v.url}`), ui.copyButton(() => v.url)),
    el('div', { class: 'muted' }, [
      `HTTP/${v.httpVersion}`, status, v.kind === 'websocket' && v.wsCallIndex !== undefined ? `WebSocket, call ${v.wsCallIndex + 1} on the socket` : v.kind,
      v.outcome ?? '', `started ${new Date(v.startedAt).toLocaleString()}`,
    ].filter((s) => s !== '').join(' · ')),
    el('div', { class: 'muted' }, timingLine(v.timings)),
  ];
  if (v.errors.length > 0) {
    out.push(el('ul', { class: 'raw-errors' }, ...v.errors.map((e) => el('li', { class: 'error-text' }, `${e.where}: ${e.text}`))));
  }
  out.push(
    ui.collapsible(`Request headers (${v.requestHeaders.length})`, () => headers(v.requestHeaders, ui)),
    ui.collapsible(`Response headers (${v.responseHeaders.length})`, () => headers(v.responseHeaders, ui)),
  );
  if (v.requestBody) out.push(body('Request body', v.requestBody, ui));
  if (v.responseBody) out.push(body('Response body', v.responseBody, ui));
  if (v.sseEvents) {
    const events = v.sseEvents;
    out.push(ui.collapsible(`SSE events (${events.length})`, () => [
      el('div', { class: 'block-head' }, el('span', { class: 'label' }, 'In order, with the time since the request started'),
        ui.copyButton(() => events.map(sseEventText).join('\n\n'))),
      ...events.map(sseEvent),
    ]));
  }
  if (v.wsMessages) out.push(wsMessages(v.wsMessages, v.wsCallIndex !== undefined, ui));
  if (v.omitted) out.push(el('p', { class: 'muted' }, `${v.omitted.toLocaleString()} more events or messages are not shown.`));
  return out;
}

function headers(pairs: [string, string][], ui: Widgets): Node[] {
  if (pairs.length === 0) return [el('p', { class: 'muted' }, 'None.')];
  return [
    el('div', { class: 'block-head' }, el('span', {}), ui.copyButton(() => pairs.map(([n, value]) => `${n}: ${value}`).join('\n'))),
    el('table', { class: 'raw-headers' }, ...pairs.map(([n, value]) => el('tr', {}, el('th', {}, n), el('td', {}, value)))),
  ];
}

function body(title: string, b: RawBody, ui: Widgets): HTMLElement {
  return ui.collapsible(title, () => [
    el('div', { class: 'block-head' }, el('span', { class: b.clipped || b.storedTruncated ? 'label warn' : 'label' }, bodyNote(b)), ui.copyButton(() => b.text)),
    b.size === 0 ? el('p', { class: 'muted' }, 'Empty.') : pre(b.text, b.format === 'binary' ? 'json binary' : 'json'),
  ], false, formatBytes(b.size));
}

const offset = (ms: number) => (ms < 1000 ? `+${Math.round(ms)} ms` : `+${(ms / 1000).toFixed(2)} s`);

function sseEvent(e: RawSseEvent): HTMLElement {
  return el('div', { class: 'raw-item' },
    el('div', { class: 'raw-item-head' }, el('span', { class: 'raw-seq' }, `#${e.seq}`), el('span', { class: 'raw-time' }, offset(e.offsetMs)),
      el('span', { class: 'label' }, e.event ?? 'message'), ...sseEventNotes(e).map((note) => el('span', { class: 'muted' }, note)),
      e.clipped ? el('span', { class: 'warn' }, 'truncated') : undefined),
    pre(e.data, 'json'));
}

function wsMessages(messages: RawWsMessage[], isCall: boolean, ui: Widgets): HTMLElement {
  const own = messages.filter((m) => m.inCall).length;
  return ui.collapsible(`WebSocket messages (${messages.length})`, () => {
    const list = el('div', { class: 'raw-ws' });
    // A socket carries many calls: show this call's frames first, the whole socket on demand.
    let onlyCall = isCall && own > 0;
    const draw = () => list.replaceChildren(...messages.filter((m) => !onlyCall || m.inCall).map(wsMessage));
    const parts: Node[] = [];
    if (isCall && own > 0) {
      const box = el('input', { type: 'checkbox', checked: true });
      box.addEventListener('change', () => {
        onlyCall = box.checked;
        draw();
      });
      parts.push(el('label', { class: 'raw-filter' }, box, ` Only this call's ${own} frame${own === 1 ? '' : 's'} (highlighted when all are shown)`));
    }
    draw();
    parts.push(list);
    return parts;
  });
}

function wsMessage(m: RawWsMessage): HTMLElement {
  const up = m.direction === 'client-to-server';
  return el('div', { class: m.inCall ? 'raw-item in-call' : 'raw-item' },
    el('div', { class: 'raw-item-head' }, el('span', { class: 'raw-seq' }, `#${m.seq}`), el('span', { class: 'raw-time' }, offset(m.offsetMs)),
      el('span', { class: `codicon codicon-arrow-${up ? 'up' : 'down'}`, title: up ? 'client to server' : 'server to client' }),
      el('span', { class: 'label' }, `${up ? 'sent' : 'received'} ${m.opcode}`), el('span', { class: 'muted' }, formatBytes(m.size)),
      m.clipped ? el('span', { class: 'warn' }, 'truncated') : undefined),
    m.text === '' ? undefined : pre(m.text, 'json'));
}
