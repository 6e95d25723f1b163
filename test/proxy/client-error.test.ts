// A refused request's answer survives what the client sends after it. The HTTP parser fails again on
// every later chunk of a header block over the limit, and each failure is another 'clientError';
// answering the first must not be undone by the next ones, which used to destroy the socket before
// its answer was written out (a connection closed with no status line, seen under load in CI).
// Driven without sockets: a Duplex whose writes complete a little later, as a TLS socket's do.
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { answerClientError } from '../../src/proxy/client-error';
import type { ProxyContext } from '../../src/proxy/proxy-context';
import type { TapEvent } from '../../src/proxy/tap';

/** A socket whose writes reach `wire` 20 ms after they are made. */
function slowSocket(): { socket: Duplex; wire: string[] } {
  const wire: string[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      setTimeout(() => {
        wire.push(chunk.toString('latin1'));
        done();
      }, 20);
    },
  });
  return { socket, wire };
}

const overflow = (): NodeJS.ErrnoException => Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW' });

describe('answering a refused request', () => {
  test('the parser failing again on the bytes that follow does not cut the answer off', async () => {
    const events: TapEvent[] = [];
    const ctx = { emit: (e: TapEvent) => events.push(e) } as unknown as ProxyContext;
    const { socket, wire } = slowSocket();
    const finished = new Promise<void>((resolve) => socket.on('finish', () => resolve()));
    answerClientError(ctx, overflow(), socket, 7);
    // The rest of the header block arrives before the answer is written out.
    answerClientError(ctx, overflow(), socket, 7);
    answerClientError(ctx, overflow(), socket, 7);
    await finished;
    assert.match(wire.join(''), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.equal(events.length, 1, 'the refusal is reported once');
    // What the client still sends is read and dropped, not left unread: a close with unread bytes is a reset.
    socket.push(Buffer.from('a'.repeat(1024)));
    await new Promise((r) => setImmediate(r));
    assert.equal(socket.readableLength, 0, 'the bytes that follow are read');
    assert.equal(socket.destroyed, false);
    socket.destroy();
  });
});
