// The live phase of bench/extension-bench.ts: one conversation grows call by call, as an agent's
// does (each request re-sends the whole history), while its conversation panel is on screen. What
// it measures: how long after a call ends the page shows it, and what the page was sent for it.
import { fetchVia, TunnelAgent } from '../../test/support/proxied-request';
import type { BenchPage, HoverLocator, OpenedWorkbench } from './page';
import { FAKE_HOST, MODEL } from './seed';

export const LIVE_TITLE = 'Live bench conversation';
const SESSION_ID = '7d0c2a4e-5b1f-4c3a-9e8d-000000000001';
const PROMPT_BYTES = 1024;
const ANSWER_BYTES = 6 * 1024;
const SYSTEM_BYTES = 12 * 1024;

export interface LiveFigures {
  calls: number;
  /** Turns the page showed at the end. */
  shown: number;
  /** Per call: its answer's last byte at the client → the page's header counting its turn (ms). */
  latencies: number[];
  /** What the page was sent while the calls ran: messages and their JSON size, by type. */
  messages: { count: number; bytes: number; types: Record<string, { count: number; bytes: number }> };
  /** The JSON of the last whole model the page was sent. */
  modelBytes?: number;
  ms: number;
}

/**
 * Runs in the conversation's frame (the bench's init script has made `window.__llmcBench` there):
 * counts what the page is sent, and stamps when its header first counts each number of turns.
 * The sizes are taken when the page is idle, so that counting does not delay what it measures.
 */
const ARM_LIVE = `(() => {
  const b = window.__llmcBench;
  const now = () => performance.timeOrigin + performance.now();
  const live = (b.live = { count: 0, bytes: 0, types: {}, seen: {} });
  const queue = [];
  const measure = (deadline) => {
    while (queue.length > 0 && deadline.timeRemaining() > 1) {
      const d = queue.shift();
      const n = JSON.stringify(d).length;
      live.bytes += n;
      live.types[d.type].bytes += n;
      if (d.model) live.modelBytes = n;
    }
    if (queue.length > 0) requestIdleCallback(measure);
  };
  addEventListener('message', (e) => {
    const d = e.data;
    if (!d || typeof d.type !== 'string') return;
    live.count++;
    (live.types[d.type] ??= { count: 0, bytes: 0 }).count++;
    queue.push(d);
    if (queue.length === 1) requestIdleCallback(measure);
  });
  let last = 0;
  setInterval(() => {
    const m = /(\\d+) turns? ·/.exec(document.querySelector('.stats')?.textContent || '');
    const n = m ? Number(m[1]) : 0;
    for (let i = last + 1; i <= n; i++) live.seen[i] = now();
    if (n > last) last = n;
    live.shown = last;
  }, 4);
})()`;

interface LivePage { count: number; bytes: number; types: Record<string, { count: number; bytes: number }>; seen: Record<string, number>; shown?: number; modelBytes?: number }

/** The frame showing the live conversation (its title has LIVE_TITLE). */
async function liveFrame(page: BenchPage): Promise<{ evaluate<R>(expression: string): Promise<R> } | undefined> {
  for (const frame of page.frames()) {
    const title = await frame.evaluate<string | null>(`window.__llmcBench && window !== window.top ? (document.querySelector('h1.title')?.textContent ?? null) : null`).catch(() => null);
    if (title?.includes(LIVE_TITLE)) return frame;
  }
  return undefined;
}

/** Call `k` of the conversation: the whole history (every prompt and answer before it) and its prompt. */
function requestBody(pool: string, k: number): { body: string; answer: string } {
  const prompt = (j: number) => `${j === 0 ? `${LIVE_TITLE}: ` : ''}call ${j}: ${pool.slice((j * 7_919) % (pool.length - PROMPT_BYTES), (j * 7_919) % (pool.length - PROMPT_BYTES) + PROMPT_BYTES)}`;
  const answerAt = (j: number) => (j * 104_729 + 31) % (pool.length - ANSWER_BYTES);
  const messages: { role: string; content: string }[] = [];
  for (let j = 0; j < k; j++) messages.push({ role: 'user', content: prompt(j) }, { role: 'assistant', content: pool.slice(answerAt(j), answerAt(j) + ANSWER_BYTES) });
  messages.push({ role: 'user', content: prompt(k) });
  const body = JSON.stringify({ model: MODEL, max_tokens: 32000, stream: true, system: pool.slice(0, SYSTEM_BYTES), metadata: { user_id: `user_${'c'.repeat(64)}_account__session_${SESSION_ID}` }, messages });
  return { body, answer: `${answerAt(k)}:${ANSWER_BYTES}` };
}

/**
 * `calls` calls of one conversation through the proxy, one every `intervalMs` (one at a time, as an
 * agent makes them); the panel is opened on it after the first. `onOpened` runs once the page is up,
 * before the rest (the caller resets its probes there). `streamMs`: each answer streams over that long
 * (the page then also gets previews of the call in progress).
 */
export async function liveConversation(o: OpenedWorkbench, proxyUrl: string, caPem: string, pool: string, port: number, calls: number, intervalMs: number, onOpened: () => Promise<void>, streamMs = 0): Promise<LiveFigures> {
  const agent = new TunnelAgent({ proxyUrl, ca: caPem }, { keepAlive: true, maxSockets: 1 });
  const ends: number[] = [];
  const send = async (k: number) => {
    const { body, answer } = requestBody(pool, k);
    const res = await fetchVia(agent, FAKE_HOST, port, {
      method: 'POST', path: '/v1/messages?beta=true',
      headers: {
        'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'claude-cli/2.1.80 (external, cli)',
        'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-bench', 'x-claude-code-session-id': SESSION_ID, 'x-bench-answer': answer,
        ...(streamMs > 0 ? { 'x-bench-stream-ms': String(streamMs) } : {}),
      },
      body: [body],
    });
    ends[k] = performance.timeOrigin + performance.now();
    if (res.statusCode !== 200) throw new Error(`live call ${k}: status ${res.statusCode}`);
  };
  try {
    await send(0);
    await openLive(o);
    const frame = await liveFrame(o.raw);
    if (!frame) throw new Error('no conversation page titled with the live session after opening it');
    await frame.evaluate(ARM_LIVE);
    await onOpened();
    const t0 = performance.now();
    for (let k = 1; k < calls; k++) {
      const due = t0 + (k - 1) * intervalMs - performance.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      await send(k);
    }
    const ms = performance.now() - t0;
    let live: LivePage | undefined;
    for (const end = Date.now() + 60_000; Date.now() < end; await o.page.waitForTimeout(100)) {
      live = await frame.evaluate<LivePage>('window.__llmcBench.live');
      if ((live.shown ?? 0) >= calls) break;
    }
    // The sizes are counted when the page is idle: give it a moment.
    await o.page.waitForTimeout(2_000);
    live = await frame.evaluate<LivePage>('window.__llmcBench.live');
    const latencies: number[] = [];
    for (let k = 1; k < calls; k++) {
      const seen = live.seen[String(k + 1)];
      if (seen !== undefined) latencies.push(seen - ends[k]!);
    }
    return { calls, shown: live.shown ?? 0, latencies, messages: { count: live.count, bytes: live.bytes, types: live.types }, ...(live.modelBytes !== undefined ? { modelBytes: live.modelBytes } : {}), ms };
  } finally {
    agent.destroy();
  }
}

/** Opens the live session from its row in the Sessions view (hovered, then its Open Session action). */
async function openLive(o: OpenedWorkbench): Promise<void> {
  const row = o.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ hasText: LIVE_TITLE }).first() as HoverLocator;
  // The first call after a reopen has the engine read the stored exchanges again first (decision 49): minutes at worst.
  for (const deadline = Date.now() + 180_000; ;) {
    try {
      await o.wb.showCaptureSidebar();
      await row.hover({ timeout: 5_000 });
      await row.locator('.action-label[aria-label="Open Session"]').first().click({ timeout: 3_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await o.wb.screenshot('live-row-missing').catch(() => undefined);
        throw e;
      }
    }
  }
  const turn = o.raw.frameLocator('iframe.webview').frameLocator('iframe#active-frame').locator('.turns .turn').first();
  await turn.waitFor({ state: 'visible', timeout: 60_000 });
}
