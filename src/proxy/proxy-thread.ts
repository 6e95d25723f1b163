// Runs the proxy on a worker thread of its own (src/proxy/proxy-worker.ts) and re-emits its tap
// events here, so whatever consumes them (decoding, storage) never delays forwarding
// (docs/decisions.md, decision 38). Same surface as startProxy(). If the worker dies of an
// uncaught error, its sockets die with it (the agent sees an error at once, never a stall), the
// exchanges it had open are ended with that error, and a new worker listens on the same port,
// so the variables already in terminals stay valid.
import { Worker } from 'node:worker_threads';
import type { ProxyOptions } from './options';
import type { RunningProxy } from './proxy-server';
import { PROXY_THREAD_PROTOCOL, type FromProxyWorker, type ProxyThreadReady, type ToProxyWorker } from './proxy-thread-protocol';
import { proxyEnvironment } from './shell-environment';
import { now, Tap, type TapEvent } from './tap';
import { workerScript } from './worker-script';

/** Body bytes the worker may have posted that this thread has not taken in yet; past it, capture drops chunks. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** How often the batches taken in are acknowledged to the worker. */
const ACK_EVERY_MS = 20;
/** Ids of each restarted worker start this far above the previous one's, so no record is confused with an older one. */
const ID_SPAN = 1_000_000_000;
/** More crashes than this within a minute: stop restarting (a worker that cannot run would spin). */
const MAX_RESTARTS_PER_MINUTE = 5;
/**
 * The proxy thread's young generation, in MB (V8's default is 16 or more). Every socket read and
 * body chunk is a buffer whose memory is freed only when a scavenge finds it dead: with a small
 * young generation that happens four times as often, so the C allocator's high-water mark for
 * this thread, which it keeps, stays lower (docs/decisions.md, decision 82). It cost no CPU.
 */
const YOUNG_GENERATION_MB = 4;

export interface ProxyThread extends RunningProxy {
  /** Makes the worker throw an uncaught error, as a bug would (for tests of the restart). */
  crashForTest(): void;
}

/**
 * Starts the proxy on its own thread. With `gate`, the thread boots and prepares (its code, the
 * CA, the certificates) at once but listens only once `gate` resolves, and not at all if it
 * rejects: the caller opens what must stop it first (the store) meanwhile, instead of before.
 */
export async function startProxyThread(options: ProxyOptions, gate?: Promise<unknown>): Promise<ProxyThread> {
  const { tap: givenTap, log: givenLog, ...threadOptions } = options;
  const tap = givenTap ?? new Tap();
  const log = givenLog ?? (() => undefined);
  let generation = 0;
  let closing = false;
  let worker: Worker;
  let workerExited = false;
  let ready: ProxyThreadReady;
  const restarts: number[] = [];
  const open = { connections: new Set<number>(), exchanges: new Set<number>() };

  const launch = (port: number, after?: Promise<unknown>): Promise<ProxyThreadReady> => new Promise((resolve, reject) => {
    const w = takeSpare() ?? newProxyWorker();
    worker = w;
    workerExited = false;
    let started = false;
    let lastError: Error | undefined;
    w.on('message', (message: FromProxyWorker) => {
      switch (message.type) {
        case 'ready':
          started = true;
          return resolve(message);
        case 'start-failed':
          return reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
        case 'events':
          return relay(w, message.events);
        case 'log':
          return log(message.level, message.message);
        case 'closed':
          return;
      }
    });
    w.on('error', (e) => { lastError = e; });
    w.on('exit', (code) => {
      if (w === worker) workerExited = true;
      if (!started) return reject(lastError ?? new Error(`the proxy thread exited (code ${code}) before it listened`));
      if (w === worker && !closing) void restart(lastError?.message ?? `exit code ${code}`);
    });
    // The thread prepares at once (CA, certificates, servers) and listens once `after` resolves; if
    // it rejects, the thread never listens and is ended without a restart.
    w.postMessage({
      type: 'start', protocol: PROXY_THREAD_PROTOCOL, maxInFlightBytes: MAX_IN_FLIGHT_BYTES, gated: after !== undefined,
      options: { ...threadOptions, port, firstId: 1 + generation * ID_SPAN },
    } satisfies ToProxyWorker);
    after?.then(() => w.postMessage({ type: 'listen' } satisfies ToProxyWorker), (e: unknown) => {
      closing = true;
      reject(e);
      void w.terminate();
    });
  });

  function relay(from: Worker, events: TapEvent[]): void {
    for (const raw of events) {
      const event = withBuffers(raw);
      track(event);
      tap.emit(event);
    }
    if (from === worker) acknowledge(from);
  }

  // Acknowledgements go back a few at a time: one message each way per batch doubled the cost.
  let unacknowledged = 0;
  let ackTimer: NodeJS.Timeout | undefined;
  function acknowledge(from: Worker): void {
    unacknowledged++;
    ackTimer ??= setTimeout(() => {
      ackTimer = undefined;
      if (from === worker) from.postMessage({ type: 'ack', batches: unacknowledged } satisfies ToProxyWorker);
      unacknowledged = 0;
    }, ACK_EVERY_MS);
  }

  function track(event: TapEvent): void {
    if (event.type === 'connection-opened') open.connections.add(event.connectionId);
    else if (event.type === 'connection-closed') open.connections.delete(event.connectionId);
    else if (event.type === 'request-head') open.exchanges.add(event.exchangeId);
    else if (event.type === 'exchange-end') open.exchanges.delete(event.exchangeId);
  }

  async function restart(reason: string): Promise<void> {
    const error = `the proxy thread stopped: ${reason}`;
    // What the dead worker had open ends here, with the reason, as its sockets did.
    for (const exchangeId of open.exchanges) tap.emit({ type: 'exchange-end', exchangeId, time: now(), outcome: 'upstream-error', error });
    for (const connectionId of open.connections) tap.emit({ type: 'connection-closed', connectionId, time: now(), bytesFromClient: 0, bytesToClient: 0, error });
    open.exchanges.clear();
    open.connections.clear();
    const at = Date.now();
    restarts.push(at);
    while (restarts.length > 0 && restarts[0] < at - 60_000) restarts.shift();
    if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
      log('error', `${error}; it stopped ${restarts.length} times within a minute, so it is not restarted (restart capture to try again)`);
      return;
    }
    generation++;
    try {
      ready = await launch(ready.port);
      log('error', `${error}; restarted on 127.0.0.1:${ready.port}`);
    } catch (e) {
      log('error', `${error}; restarting it on 127.0.0.1:${ready.port} failed: ${(e as Error).message}`);
    }
  }

  ready = await launch(options.port ?? 0, gate);
  const port = ready.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    ca: ready.ca,
    tap,
    interceptedHosts: ready.interceptedHosts,
    environment: (label?: string) => proxyEnvironment(port, ready.ca, options.auth?.token, label),
    crashForTest: () => worker.postMessage({ type: 'crash' } satisfies ToProxyWorker),
    async close() {
      closing = true;
      const w = worker;
      if (!workerExited) await new Promise<void>((resolve) => {
        const done = () => resolve();
        w.once('exit', done);
        w.on('message', (m: FromProxyWorker) => {
          if (m.type === 'closed') void w.terminate();
        });
        w.postMessage({ type: 'close' } satisfies ToProxyWorker);
      });
      await tap.drained();
    },
  };
}

/** A proxy thread booted ahead of the next start, idle until one takes it (prepareProxyThread). */
let spare: { worker: Worker; detach(): void } | undefined;

function newProxyWorker(): Worker {
  const script = workerScript(__dirname, 'proxy-worker');
  return new Worker(script.code, { eval: script.eval, name: 'llm-capture proxy', resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
}

/**
 * Boots a proxy thread now, for the next start to take: booting one (Node's worker and the
 * bundle) is the larger part of a start, and the thread also runs, ahead of time, the
 * first-use work that does not depend on the options (docs/decisions.md, decision 62). It idles
 * unreferenced, so it keeps no process alive, until startProxyThread takes it.
 */
export function prepareProxyThread(): void {
  if (spare) return;
  const worker = newProxyWorker();
  // A spare that fails (it cannot have any socket yet) is only dropped: the next start boots its own.
  const onError = (): void => undefined;
  const onExit = (): void => {
    if (spare?.worker === worker) spare = undefined;
  };
  worker.on('error', onError);
  worker.once('exit', onExit);
  worker.unref();
  worker.postMessage({ type: 'warm' } satisfies ToProxyWorker);
  spare = { worker, detach: () => { worker.off('error', onError); worker.off('exit', onExit); } };
}

/** Whether a spare is booted and not yet taken. */
export function hasSpareProxyThread(): boolean {
  return spare !== undefined;
}

/** Ends the spare thread, if there is one (the engine is shutting down). */
export async function discardSpareProxyThread(): Promise<void> {
  const s = spare;
  spare = undefined;
  await s?.worker.terminate();
}

function takeSpare(): Worker | undefined {
  const s = spare;
  spare = undefined;
  if (!s) return undefined;
  s.detach();
  s.worker.ref();
  return s.worker;
}

/** Structured clone turns Buffers into plain Uint8Arrays; make them Buffers again, without copying. */
function withBuffers(event: TapEvent): TapEvent {
  if (event.type === 'request-body' || event.type === 'response-body') return { ...event, chunk: asBuffer(event.chunk) };
  if (event.type === 'ws-message') return { ...event, data: asBuffer(event.data) };
  return event;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
