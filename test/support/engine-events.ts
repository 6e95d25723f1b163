// Reading what an engine (or its session follower) said, for tests that watch its events.
import type { EngineEvent } from '../../src/engine/protocol';

/** The sessions the events leave listed: id → call count. */
export function listedSessions(events: readonly EngineEvent[]): Map<string, number> {
  const shown = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'sessions') continue;
    if (e.reset) shown.clear();
    for (const r of e.retired) shown.delete(r.id);
    for (const s of e.sessions) shown.set(s.id, s.callCount);
  }
  return shown;
}

/** Polls `probe` every 25 ms until it gives a value (not undefined, not false); fails after `ms`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<Exclude<T, false>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, false>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
