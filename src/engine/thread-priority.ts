// The engine's thread (and the proxy's, which it starts and which inherits it) runs at a lower
// priority than the extension host's main thread: on a busy machine the editor's own work goes
// first, and capture waits (docs/decisions.md, decision 48). Linux only: there `setpriority` on a
// thread id affects that thread alone; elsewhere it would affect the whole process, so nothing is done.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of the engine's thread: the main thread keeps ~9× its share of a contended core (CFS weights 1024 : 110). */
export const ENGINE_NICE = 10;

/** Lowers the calling thread's priority to `nice` (never raises it). Returns why not, if it could not. */
export function lowerThisThreadPriority(nice = ENGINE_NICE): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // /proc/thread-self → "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return 'no thread id in /proc/thread-self';
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
