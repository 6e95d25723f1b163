// The messages between the thread that forwards (src/proxy/proxy-worker.ts) and the thread that
// started it (src/proxy/proxy-thread.ts). One module for both sides, so a change to a message is
// a type error on both; the version guards against a worker file from another build.
import type { ProxyOptions } from './options';
import type { TapEvent } from './tap';

export const PROXY_THREAD_PROTOCOL = 2;

/** Everything of ProxyOptions that can cross a thread boundary (no tap, no log function). */
export type ProxyThreadOptions = Omit<ProxyOptions, 'tap' | 'log'>;

export type ToProxyWorker =
  /** Prepare (CA, certificates, servers) and listen; with `gated`, listen only once 'listen' comes. */
  | { type: 'start'; protocol: number; options: ProxyThreadOptions; maxInFlightBytes: number; gated: boolean }
  /** Booted ahead of a start (a spare): do now what every start would do first. */
  | { type: 'warm' }
  /** What had to come first is done (the store is open): listen. */
  | { type: 'listen' }
  /** The starting thread has taken in this many more batches (batches are acknowledged in order, a few at a time). */
  | { type: 'ack'; batches: number }
  | { type: 'close' }
  /** Throws an uncaught error inside the worker, as a bug would (tests of the restart). */
  | { type: 'crash' };

export interface ProxyThreadReady {
  type: 'ready';
  port: number;
  ca: { certPath: string; keyPath: string; bundlePath: string; certPem: string };
  interceptedHosts: string[];
}

export type FromProxyWorker =
  | ProxyThreadReady
  /** Tap events in the order they happened; body bytes were copied into buffers of their own. */
  | { type: 'events'; events: TapEvent[] }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** Start failed; `code` is the errno code (EADDRINUSE) where there is one. */
  | { type: 'start-failed'; message: string; code?: string }
  | { type: 'closed' };
