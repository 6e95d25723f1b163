// The thread that forwards. It runs the proxy and nothing else: every tap event is posted to the
// thread that started it, where decoding, redaction, compression and storage happen, so a large
// body being compressed there never holds up another stream here (docs/decisions.md, decision 38).
// Body bytes travel in buffers of their own that each message transfers (event-batch.ts).
import { parentPort } from 'node:worker_threads';
import { startProxy, type RunningProxy } from './proxy-server';
import { EventBatch } from './event-batch';
import { PROXY_THREAD_PROTOCOL, type FromProxyWorker, type ToProxyWorker } from './proxy-thread-protocol';
import { eventBytes, now, Tap, type TapEvent } from './tap';
import { warmUp } from './warm-up';
import { FLUSH_CACHE_AFTER_MS, flushCompileCache } from './worker-script';

if (!parentPort) throw new Error('proxy-worker.ts runs as a worker thread (src/proxy/proxy-thread.ts starts it)');
const port = parentPort;
const post = (message: FromProxyWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let proxy: RunningProxy | undefined;
const batch = new EventBatch();
let flushScheduled = false;
let budget = 64 * 1024 * 1024;
const dropped = { events: 0, bytes: 0 };

/**
 * Batches posted and not yet acknowledged, oldest first. Their bytes bound what capture may hold
 * back (past the budget, body chunks are dropped); their age and count tell when capture is
 * behind on a flood of exchanges, and new exchanges are then recorded without their bodies, so
 * capture catches up and a crash loses at most about a second (docs/decisions.md, decision 38).
 */
const unacked: { sentAt: number; events: number; bytes: number }[] = [];
let inFlightBytes = 0;
let inFlightEvents = 0;
const BEHIND_AFTER_MS = 500;
const BEHIND_AFTER_EVENTS = 1000;
/** Exchanges begun while capture was behind: their bodies are not sent, their end says why. */
const skimmed = new Map<number, number>();
/** WebSocket messages dropped while capture was behind, per exchange (a socket may outlive a flood). */
const droppedMessages = new Map<number, { messages: number; bytes: number }>();

function behind(): boolean {
  return inFlightEvents > BEHIND_AFTER_EVENTS && unacked.length > 0 && performance.now() - unacked[0].sentAt > BEHIND_AFTER_MS;
}

function forward(event: TapEvent): void {
  // An HTTP body is kept whole or not at all (a body with holes would be misread); a WebSocket
  // loses whole messages, and only while capture is behind.
  if (event.type === 'request-head' && !event.upgrade && behind()) skimmed.set(event.exchangeId, 0);
  if ((event.type === 'request-body' || event.type === 'response-body') && skimmed.has(event.exchangeId)) {
    skimmed.set(event.exchangeId, (skimmed.get(event.exchangeId) ?? 0) + event.chunk.length);
    return;
  }
  if (event.type === 'ws-message' && behind()) {
    const lost = droppedMessages.get(event.exchangeId) ?? { messages: 0, bytes: 0 };
    droppedMessages.set(event.exchangeId, { messages: lost.messages + 1, bytes: lost.bytes + event.data.length });
    return;
  }
  if (event.type === 'exchange-end') {
    const bodies = skimmed.get(event.exchangeId);
    const messages = droppedMessages.get(event.exchangeId);
    skimmed.delete(event.exchangeId);
    droppedMessages.delete(event.exchangeId);
    const what = bodies !== undefined ? `this exchange's bodies (${bodies} bytes) were not captured`
      : messages ? `${messages.messages} WebSocket messages (${messages.bytes} bytes) were not captured` : undefined;
    if (what) push({ type: 'error', time: event.time, exchangeId: event.exchangeId, message: `capture fell behind forwarding: ${what}` });
  }
  const bytes = eventBytes(event);
  if (bytes > 0 && inFlightBytes + bytes > budget) {
    // The other thread holds too much already: capture loses this chunk (and says so), forwarding loses nothing.
    dropped.events++;
    dropped.bytes += bytes;
    return;
  }
  if (dropped.events > 0) {
    push({ type: 'tap-overflow', time: now(), droppedEvents: dropped.events, droppedBytes: dropped.bytes });
    dropped.events = 0;
    dropped.bytes = 0;
  }
  push(event);
}

/** Events are posted a few milliseconds at a time: one message per SSE event cost more than the event itself. */
const BATCH_MS = 4;

function push(event: TapEvent): void {
  batch.add(event);
  if (!flushScheduled) {
    flushScheduled = true;
    setTimeout(flush, BATCH_MS);
  }
}

function flush(): void {
  flushScheduled = false;
  if (batch.size === 0) return;
  const { events, transfer } = batch.take();
  const bytes = events.reduce((sum, e) => sum + eventBytes(e), 0);
  unacked.push({ sentAt: performance.now(), events: events.length, bytes });
  inFlightBytes += bytes;
  inFlightEvents += events.length;
  post({ type: 'events', events }, transfer);
}

function acknowledged(batches: number): void {
  for (let i = 0; i < batches; i++) {
    const oldest = unacked.shift();
    if (!oldest) return;
    inFlightBytes -= oldest.bytes;
    inFlightEvents -= oldest.events;
  }
}

/** Lets a gated start listen. Set before 'start' first awaits, so before 'listen' (posted after 'start') is handled. */
let openGate: (() => void) | undefined;

async function start(message: Extract<ToProxyWorker, { type: 'start' }>): Promise<void> {
  if (message.protocol !== PROXY_THREAD_PROTOCOL) {
    post({ type: 'start-failed', message: `proxy worker speaks protocol ${PROXY_THREAD_PROTOCOL}, not ${message.protocol}` });
    return;
  }
  budget = message.maxInFlightBytes;
  // Events are posted on the tap's own later turn, as any consumer gets them, never inline.
  const tap = new Tap({ onListenerError: (e) => post({ type: 'log', level: 'error', message: `proxy thread: ${(e as Error).message}` }) });
  tap.subscribe(forward);
  try {
    const gate = message.gated ? new Promise<void>((resolve) => { openGate = resolve; }) : undefined;
    proxy = await startProxy({ ...message.options, tap, log: (level, text) => post({ type: 'log', level, message: text }) }, gate);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    post({ type: 'start-failed', message: err.message, ...(err.code ? { code: err.code } : {}) });
    return;
  }
  post({ type: 'ready', port: proxy.port, ca: proxy.ca, interceptedHosts: [...proxy.interceptedHosts] });
  setTimeout(flushCompileCache, FLUSH_CACHE_AFTER_MS).unref();
}

port.on('message', (message: ToProxyWorker) => {
  switch (message.type) {
    case 'start':
      void start(message);
      return;
    case 'warm':
      try {
        warmUp();
      } catch (e) {
        post({ type: 'log', level: 'debug', message: `proxy thread warm-up: ${(e as Error).message}` });
      }
      return;
    case 'listen':
      openGate?.();
      return;
    case 'ack':
      acknowledged(message.batches);
      return;
    case 'close':
      void (proxy?.close() ?? Promise.resolve()).then(() => {
        flush();
        post({ type: 'closed' });
      });
      return;
    case 'crash':
      setImmediate(() => {
        throw new Error('the proxy thread was asked to crash');
      });
  }
});
