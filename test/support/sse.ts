// Server-sent events for fake upstreams, and a client-side reader that yields events as
// they arrive (the streaming tests wait on *received* events, never on time).
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Writes the head (once) and then each event as its own write, yielding between them. */
export async function writeSse(res: ServerResponse, events: readonly string[]): Promise<void> {
  if (!res.headersSent) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
  }
  for (const e of events) {
    if (res.destroyed) return;
    res.write(e);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Deterministic, incompressible-looking bytes of a given size. */
export function largeBody(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Splits a byte stream into complete SSE events (blank-line separated) as they arrive. */
export async function* sseEvents(stream: Readable): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of stream) {
    pending += (chunk as Buffer).toString('utf8');
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      yield pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
    }
  }
}
