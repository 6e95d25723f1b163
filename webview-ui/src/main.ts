// The conversation webview: a session's threads, turn by turn, with the system prompt and the
// tool definitions in their own tabs. Talks to src/extension/conversation-panel.ts over the
// protocol in src/shared/conversation-protocol.ts (it says `ready` first; the host answers).
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { FIRST_SESSION_ID, type ConversationPanelState, type HostToWebview, type WebviewToHost } from '../../src/shared/conversation-protocol';
import { filterTurns } from '../../src/shared/conversation-search';
import type { ConversationViewModel, ViewBlock, ViewThread, ViewTurn } from '../../src/shared/conversation-view-model';
import { applyLiveChanges, applyViewPatch } from '../../src/shared/view-model-patch';
import { el, highlight, markdown, pre } from './dom';
import { ContextChart } from './context-chart';
import { keepFolds, onFirstOpen, setFoldKey } from './folds';
import { LiveTurns } from './live-turns';
import { renderCalls } from './model-calls';
import { RawCallsTab } from './raw-calls';
import { ToolDefinitionsTab } from './tool-definitions';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): ConversationPanelState | undefined;
  setState(state: ConversationPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// Marks (on the page's own performance timeline, read by bench/extension-bench.ts): when this
// script ran, asked for its session, got it and drew it.
performance.mark('llm-capture:script');
const vscode = acquireVsCodeApi();
/** Turns rendered at once; more as the end of the list scrolls into view. */
const PAGE = 30;
/**
 * Turns drawn for a thread's first frame: about a window's worth. The paging below adds the rest
 * on the next frames while the end of the list is near (each turn holds components to build).
 */
const FIRST_PAGE = 10;

let model: ConversationViewModel | undefined;
/** The engine's revision of `model`, which patches are made against (decision 76). */
let revision: number | undefined;
/** Likewise for the previews of calls in progress. */
let liveRevision: number | undefined;
let threadId = '';
/**
 * Whether the thread on screen was chosen (by the user, a link or the host), not defaulted to the
 * first. A session read in bit by bit can show a side thread (its title call) before its main
 * thread exists; an unchosen thread gives way to the main one when it comes.
 */
let threadChosen = false;
let query = '';
let rendered = 0;
let visible: ViewTurn[] = [];

const root = document.getElementById('root')!;
const title = el('h1', { class: 'title' });
const stats = el('div', { class: 'stats' });
const threadSelect = el('select', { class: 'thread-select', 'aria-label': 'Thread' });
const search = el('vscode-textfield', { placeholder: 'Search this thread', class: 'search' }) as HTMLElement & { value: string };
const matchInfo = el('span', { class: 'match-info' });
const turnsBox = el('div', { class: 'turns' });
/** Clicking a call on the chart opens its turn. */
const chart = new ContextChart((turnIndex) => focusTurn(turnIndex));
const sentinel = el('div', { class: 'sentinel' });
/** Calls still streaming, after the last turn (see showLive). */
const live = new LiveTurns(el('div', { class: 'live-turns' }));
const systemBox = el('div', { class: 'system' });
const toolsBox = el('div', { class: 'tools' });
const rawBox = el('div', { class: 'raw' });
const toolsTab = new ToolDefinitionsTab(toolsBox, { copyButton, collapsible });
const rawTab = new RawCallsTab(rawBox, { copyButton, collapsible }, (callId) => vscode.postMessage({ type: 'requestRaw', callId }));
const tabs = el('vscode-tabs', { panel: true },
  el('vscode-tab-header', { slot: 'header' }, 'Conversation'),
  el('vscode-tab-panel', {}, chart.box, turnsBox, live.box, sentinel),
  el('vscode-tab-header', { slot: 'header' }, 'System prompt'),
  el('vscode-tab-panel', {}, systemBox),
  el('vscode-tab-header', { slot: 'header' }, 'Tools'),
  el('vscode-tab-panel', {}, toolsBox),
  el('vscode-tab-header', { slot: 'header' }, 'Raw calls'),
  el('vscode-tab-panel', {}, rawBox),
);
root.append(
  el('header', {}, title, stats, el('div', { class: 'controls' }, threadSelect, search, matchInfo)),
  tabs,
);

threadSelect.addEventListener('change', () => showThread(threadSelect.value));
let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    query = (search.value ?? '').trim();
    renderThread(false);
  }, 150);
});

// More turns when the end of the list comes near. An IntersectionObserver does not see through
// the tab panel's shadow DOM reliably, so the scroll position is checked directly (once a frame).
let checkQueued = false;
function checkMore(): void {
  if (checkQueued) return;
  checkQueued = true;
  requestAnimationFrame(() => {
    checkQueued = false;
    // A hidden tab panel has no layout (its rectangle is all zeros): nothing to load then.
    if (rendered < visible.length && sentinel.offsetParent !== null && sentinel.getBoundingClientRect().top < window.innerHeight + 800) {
      renderMore();
      checkMore();
    }
  });
}
window.addEventListener('scroll', checkMore, { passive: true });
window.addEventListener('resize', checkMore);
tabs.addEventListener('vsc-tabs-select', () => {
  // A tab chosen before its deferred drawing ran is drawn now.
  drawOtherTabs();
  checkMore();
});

function showSession(m: Extract<HostToWebview, { type: 'session' }>): void {
  performance.mark('llm-capture:session');
  revision = m.revision;
  setModel(m.model, m.focus?.threadId);
  if (m.focus?.query !== undefined) searchFor(m.focus.query);
  if (m.focus?.turnIndex !== undefined) focusTurn(m.focus.turnIndex);
  performance.mark('llm-capture:drawn');
  // Once this frame is painted, the host may send what the first message left out.
  requestAnimationFrame(() => setTimeout(() => vscode.postMessage({ type: 'drawn' }), 0));
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'session':
      showSession(m);
      break;
    case 'sessionUpdated':
      revision = m.revision;
      setModel(m.model, undefined, true);
      break;
    case 'sessionPatch': {
      const next = model && revision === m.base ? applyViewPatch(model, m.patch) : undefined;
      if (!next) {
        // Not the model the patch was made against: the host sends the whole one.
        revision = undefined;
        vscode.postMessage({ type: 'stale' });
        break;
      }
      revision = m.revision;
      setModel(next, undefined, true);
      performance.mark('llm-capture:patch');
      break;
    }
    case 'sessionMissing':
      turnsBox.replaceChildren(el('p', { class: 'empty' }, `Session ${m.sessionId} is not loaded in this window. Start capture, or show the Sessions view to load earlier captures.`));
      vscode.setState({ sessionId: m.sessionId });
      break;
    case 'showThread':
      if (m.query !== undefined) setQuery(m.query);
      showThread(m.threadId);
      if (m.turnIndex !== undefined) focusTurn(m.turnIndex);
      break;
    case 'live':
      liveRevision = m.revision;
      live.set(m.turns);
      showLive();
      break;
    case 'livePatch': {
      const turns = liveRevision === m.base ? applyLiveChanges(live.current, m.changes) : undefined;
      if (!turns) {
        liveRevision = undefined;
        vscode.postMessage({ type: 'stale' });
        break;
      }
      liveRevision = m.revision;
      live.set(turns);
      showLive();
      break;
    }
    case 'raw':
      rawTab.receive(m.callId, m.view, m.error);
      break;
  }
});

function setModel(next: ConversationViewModel, focusThread?: string, keepPlace = false): void {
  // Another session in this page (the host reuses its preview panel): start over at the top, with
  // no search and none of the other session's calls in progress.
  if (model && model.sessionId !== next.sessionId) {
    query = '';
    search.value = '';
    live.set([]);
    liveRevision = undefined;
    showLive();
    window.scrollTo(0, 0);
    threadChosen = false;
  }
  model = next;
  vscode.setState({ sessionId: next.sessionId });
  title.textContent = next.title;
  stats.textContent = `${next.client} · ${next.stats}${next.cache ? ` · ${next.cache}` : ''}`;
  threadSelect.replaceChildren(...next.threads.map((t) => el('option', { value: t.id }, `${t.label} (${t.turns.length})`)));
  if (focusThread !== undefined) threadChosen = true;
  const wanted = focusThread ?? (threadChosen ? threadId : next.threads[0]?.id);
  threadId = next.threads.some((t) => t.id === wanted) ? wanted! : next.threads[0]?.id ?? '';
  threadSelect.value = threadId;
  renderThread(keepPlace);
}

/** The thread's search, as typing `text` in the search box sets it; the next render applies it. */
function setQuery(text: string): void {
  query = text.trim();
  search.value = query;
}

function searchFor(text: string): void {
  setQuery(text);
  renderThread(false);
}

function currentThread(): ViewThread | undefined {
  return model?.threads.find((t) => t.id === threadId);
}

function showThread(id: string): void {
  if (!model?.threads.some((t) => t.id === id)) return;
  threadId = id;
  threadChosen = true;
  threadSelect.value = id;
  renderThread(false);
  window.scrollTo(0, 0);
}

/** The thread whose turns are on screen, to tell a live update from a switch. */
let renderedThreadId = '';

function renderThread(keepPlace: boolean): void {
  const thread = currentThread();
  if (keepPlace && thread && thread.id === renderedThreadId && query === '' && visible.length > 0 && thread.turns.length >= visible.length) {
    updateTurns(thread);
    return;
  }
  renderedThreadId = thread?.id ?? '';
  const scroll = window.scrollY;
  const keep = keepPlace ? rendered : 0;
  visible = thread ? filterTurns(thread.turns, query) : [];
  rendered = 0;
  turnsBox.replaceChildren();
  matchInfo.textContent = query === '' ? '' : `${visible.length} matching turn${visible.length === 1 ? '' : 's'}`;
  if (thread && visible.length === 0) turnsBox.append(el('p', { class: 'empty' }, query === '' ? 'No turns yet.' : 'No turn matches the search.'));
  renderMore(keepPlace ? Math.max(keep, PAGE) : FIRST_PAGE);
  drawChartSoon();
  drawOtherTabsSoon();
  if (keepPlace) window.scrollTo(0, scroll);
}

/**
 * A live update of the thread on screen: only the turns that changed are redrawn (so what the
 * user unfolded elsewhere stays as it was), and new turns come in through the usual paging.
 */
function updateTurns(thread: ViewThread): void {
  const before = visible;
  visible = [...thread.turns];
  for (let i = 0; i < rendered; i++) {
    const next = visible[i]!;
    // A patch keeps unchanged turns as the same objects (decision 76).
    if (before[i] === next || JSON.stringify(before[i]) === JSON.stringify(next)) continue;
    const node = document.getElementById(`turn-${next.index}`);
    if (!node) continue;
    const fresh = renderTurn(next);
    keepFolds(node, fresh);
    node.replaceWith(fresh);
  }
  sentinel.textContent = rendered < visible.length ? `Loading more turns (${rendered} of ${visible.length})…` : '';
  drawChartSoon();
  drawOtherTabsSoon();
  checkMore();
  showLive();
}

/** The chart is drawn after the turns' first frame: the first turn is what the user opened the session for. */
let chartQueued = false;
function drawChartSoon(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => setTimeout(() => {
    chartQueued = false;
    chart.show(currentThread());
    performance.mark('llm-capture:chart');
  }, 0));
}

function renderMore(count = PAGE): void {
  const end = Math.min(visible.length, rendered + count);
  const frag = document.createDocumentFragment();
  for (; rendered < end; rendered++) frag.append(renderTurn(visible[rendered]!));
  turnsBox.append(frag);
  sentinel.textContent = rendered < visible.length ? `Loading more turns (${rendered} of ${visible.length})…` : '';
  checkMore();
  showLive();
}

/**
 * The live turns of the thread on screen, once its last turn is drawn and no search filters it.
 * A turn goes to the thread it hints at when this view has it, else to the main thread.
 */
function showLive(): void {
  const threads = model?.threads ?? [];
  const main = threads.find((t) => t.kind === 'main')?.id ?? threads[0]?.id;
  live.show(threadId, (t) => (t.threadHint !== undefined && threads.some((th) => th.id === t.threadHint) ? t.threadHint : main),
    query === '' && rendered >= visible.length);
}

function focusTurn(index: number): void {
  const pos = visible.findIndex((t) => t.index === index);
  if (pos < 0) return;
  // A turn asked for (a tree row, a chart bar, a search result) is shown in the Conversation tab.
  (tabs as HTMLElement & { selectedIndex: number }).selectedIndex = 0;
  if (pos >= rendered) renderMore(pos - rendered + 1);
  const node = document.getElementById(`turn-${index}`);
  node?.scrollIntoView({ block: 'start' });
  node?.classList.add('focused');
}

function copyButton(text: () => string): HTMLElement {
  const b = el('button', { class: 'icon-button', title: 'Copy', 'aria-label': 'Copy' }, el('span', { class: 'codicon codicon-copy' }));
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    vscode.postMessage({ type: 'copy', text: text() });
  });
  return b;
}

function collapsible(heading: string, body: () => Node[], open = false, description = ''): HTMLElement {
  const c = el('vscode-collapsible', { heading, description: description || undefined, open }) as HTMLElement & { open: boolean };
  // Bodies are built when first opened: most folded blocks of a long session are never looked at.
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    c.append(...body());
    // A search opens the folded blocks it found something in.
    if (query !== '' && highlight(c, query) > 0) c.open = true;
  };
  if (open || query !== '') build();
  else {
    c.addEventListener('vsc-collapsible-toggle', build);
    onFirstOpen(c, build);
  }
  return c;
}

function renderTurn(turn: ViewTurn): HTMLElement {
  const head = el('div', { class: 'turn-head' },
    el('span', { class: 'turn-title' }, `Turn ${turn.index + 1}`),
    el('span', { class: 'turn-time' }, new Date(turn.startedAt).toLocaleString()),
    el('span', { class: 'turn-stats' }, turn.stats),
    turn.cacheBreaks > 0 ? el('vscode-badge', { class: 'cache-break-badge', title: 'A call of this turn read less from the prompt cache than it could have' },
      `cache break${turn.cacheBreaks > 1 ? ` ×${turn.cacheBreaks}` : ''}`) : undefined,
  );
  const box = el('section', { class: 'turn', id: `turn-${turn.index}` }, head);
  if (turn.calls.length > 0) box.append(renderCalls(turn.calls, collapsible));
  if (turn.prompt !== '') {
    box.append(el('div', { class: 'block user' },
      el('div', { class: 'block-head' }, el('span', { class: 'role' }, 'User'), copyButton(() => turn.prompt)),
      pre(turn.prompt, 'prompt')));
  }
  if (query !== '') highlight(box, query);
  // Blocks highlight themselves (folded ones when their body is built).
  for (const [i, b] of turn.blocks.entries()) {
    const node = renderBlock(b, i);
    if (query !== '' && (b.kind === 'text' || b.kind === 'marker')) highlight(node, query);
    box.append(node);
  }
  return box;
}

/** `i`, the block's place in its turn, keys its fold: a turn only grows while live. */
function renderBlock(b: ViewBlock, i: number): HTMLElement {
  switch (b.kind) {
    case 'text': {
      const role = b.role === 'assistant' ? 'Assistant' : b.role === 'user' ? 'User' : b.role === 'system' ? 'System' : 'Tool';
      const body = b.role === 'assistant' ? markdown(b.text) : pre(b.text, 'prompt');
      return el('div', { class: `block ${b.role}` },
        el('div', { class: 'block-head' }, el('span', { class: 'role' }, role),
          b.alternative ? el('vscode-badge', {}, 'alternative answer') : undefined, copyButton(() => b.text)),
        body);
    }
    case 'thinking':
      return el('div', { class: 'block thinking' },
        setFoldKey(collapsible(b.redacted ? 'Thinking (encrypted or redacted)' : 'Thinking', () => [el('div', { class: 'block-head' }, copyButton(() => b.text)), pre(b.text, 'thinking-text')]), `thinking:${i}`));
    case 'tool': {
      const c = collapsible(b.name, () => {
        const parts: Node[] = [];
        if (b.arguments !== undefined) {
          parts.push(el('div', { class: 'block-head' }, el('span', { class: 'label' }, 'Arguments'), copyButton(() => b.arguments ?? '')), pre(b.arguments, 'json'));
        }
        if (b.output !== undefined) {
          parts.push(el('div', { class: 'block-head' }, el('span', { class: b.isError ? 'label error' : 'label' }, b.isError ? 'Result (error)' : 'Result'), copyButton(() => b.output ?? '')), pre(b.output, b.isError ? 'output error' : 'output'));
        } else {
          parts.push(el('p', { class: 'muted' }, 'No result captured.'));
        }
        return parts;
      }, false, b.summary);
      setFoldKey(c, `tool:${b.callId ?? i}`);
      if (b.isError) c.append(el('vscode-badge', { class: 'error-badge', slot: 'decorations' }, 'error'));
      const box = el('div', { class: b.isError ? 'block tool error' : 'block tool' }, c);
      const extras = el('div', { class: 'tool-extras' });
      if (b.subagentThreadId) {
        const id = b.subagentThreadId;
        const open = el('button', { class: 'link-button' }, el('span', { class: 'codicon codicon-type-hierarchy-sub' }), ' Open subagent thread');
        open.addEventListener('click', () => vscode.postMessage({ type: 'openThread', threadId: id }));
        extras.append(open);
      }
      if (extras.childElementCount > 0) box.append(extras);
      return box;
    }
    case 'scaffolding':
      return el('div', { class: 'block scaffolding' },
        setFoldKey(collapsible(`Context injected by the client (${b.items.length})`, () => b.items.flatMap((item) => [
          el('div', { class: 'block-head' }, el('span', { class: 'label' }, item.label), copyButton(() => item.text)), pre(item.text, 'output'),
        ])), `scaffolding:${i}`));
    case 'marker':
      return el('div', { class: 'block marker' }, b.text);
  }
}

/**
 * The System prompt, Tools and Raw calls tabs are hidden when a session arrives, and the last two
 * hold a collapsible per tool and per call (500 calls: 500 components to build). They are drawn
 * after the conversation's first frame is painted, or at once when their tab is chosen first.
 */
let otherTabsStale = false;
let otherTabsQueued = false;
function drawOtherTabsSoon(): void {
  otherTabsStale = true;
  if (otherTabsQueued) return;
  otherTabsQueued = true;
  requestAnimationFrame(() => setTimeout(() => {
    otherTabsQueued = false;
    drawOtherTabs();
  }, 0));
}

function drawOtherTabs(): void {
  if (!otherTabsStale) return;
  otherTabsStale = false;
  const thread = currentThread();
  renderSystem(thread);
  renderTools(thread);
}

function renderSystem(thread: ViewThread | undefined): void {
  if (!thread?.systemPrompt) {
    systemBox.replaceChildren(el('p', { class: 'empty' }, 'No system prompt captured for this thread.'));
    return;
  }
  const text = thread.systemPrompt;
  systemBox.replaceChildren(el('div', { class: 'block-head' }, el('span', { class: 'label' }, `${text.length.toLocaleString()} characters`), copyButton(() => text)), pre(text, 'prompt'));
}

/** The Tools and Raw calls tabs; both keep what is unfolded across live updates. */
function renderTools(thread: ViewThread | undefined): void {
  toolsTab.render(thread, query);
  rawTab.render(thread);
}

// A new page may carry its first `session` message (decision 89): drawn now, without waiting for
// the round trip of `ready`. A page VS Code builds again (shown after being hidden) has a state, and
// the message written into it may be old: the host sends the current one instead.
const first = vscode.getState() ? undefined : firstSession();
if (first) showSession(first);
performance.mark('llm-capture:ready');
vscode.postMessage(first ? { type: 'ready', has: first.revision } : { type: 'ready' });

function firstSession(): Extract<HostToWebview, { type: 'session' }> | undefined {
  const text = document.getElementById(FIRST_SESSION_ID)?.textContent;
  if (!text) return undefined;
  try {
    const m = JSON.parse(text) as HostToWebview;
    return m.type === 'session' ? m : undefined;
  } catch {
    return undefined;
  }
}
