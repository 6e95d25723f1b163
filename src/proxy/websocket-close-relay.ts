// The closing handshake, relayed end to end (RFC 6455 §5.5.1, §7). `ws` answers a Close frame the
// moment it arrives; a relay that let it would close the client while the server is still sending
// what it owed before the Close (the answers to the last messages), and would answer each side with
// its own words instead of the other side's code. So a Close frame from one side is passed to the
// other, and the first side is answered only when the other side's handshake has finished, with
// what that side said (docs/decisions.md, decision 58).
import { WebSocket } from 'ws';
import type { WebSocketDirection } from './tap';

export interface CloseRelayEvents {
  /** A Close frame arrived from one side (the first close of the exchange). */
  closeFrame(direction: WebSocketDirection, code: number, reason: string): void;
  /** Both legs are closed; `abruptSide` closed without a close frame (1006). */
  ended(abruptSide?: 'client' | 'upstream'): void;
}

type CloseFn = WebSocket['close'];

interface Leg {
  ws: WebSocket;
  side: 'client' | 'upstream';
  /** Frames from this leg travel in this direction. */
  direction: WebSocketDirection;
  sendClose: CloseFn;
  /** Our own call to close, as opposed to ws answering a frame. */
  ours: boolean;
  /** This leg's peer sent a Close, which waits for the other leg's answer. */
  awaitingAnswer: boolean;
}

export function relayCloses(client: WebSocket, upstream: WebSocket, events: CloseRelayEvents): void {
  const a = leg(client, 'client', 'client-to-server');
  const b = leg(upstream, 'upstream', 'server-to-client');
  let first = true;
  let abrupt: 'client' | 'upstream' | undefined;
  for (const [self, other] of [[a, b], [b, a]] as const) {
    // ws calls close() itself on a Close frame (and on a protocol error); ours go through `ours`.
    self.ws.close = ((code?: number, reason?: string | Buffer) => {
      if (self.ours || self.ws.readyState !== WebSocket.OPEN) return self.sendClose(code, reason);
      if (first) events.closeFrame(self.direction, code ?? 1005, reason === undefined ? '' : String(reason));
      first = false;
      if (other.ws.readyState === WebSocket.CLOSED) return answer(self, code ?? 1005, reason);
      self.awaitingAnswer = true;
      if (other.ws.readyState === WebSocket.OPEN) answer(other, code ?? 1005, reason);
      // Otherwise the other leg is closing already; its 'close' answers this one.
    }) as CloseFn;
    self.ws.once('close', (code: number, reason: Buffer) => {
      if (code === 1006 && !self.awaitingAnswer && abrupt === undefined) abrupt = self.side;
      if (other.awaitingAnswer || other.ws.readyState === WebSocket.OPEN) {
        if (code === 1006) {
          if (first) events.closeFrame(self.direction, code, '');
          first = false;
          other.ws.terminate();
        } else {
          other.awaitingAnswer = false;
          answer(other, code, reason);
        }
      }
      if (other.ws.readyState === WebSocket.CLOSED) events.ended(abrupt);
    });
  }
}

function leg(ws: WebSocket, side: Leg['side'], direction: WebSocketDirection): Leg {
  return { ws, side, direction, sendClose: ws.close.bind(ws) as CloseFn, ours: false, awaitingAnswer: false };
}

/** Closes a leg with a code and reason; 1005 (none given) and codes that cannot be sent close without one. */
function answer(target: Leg, code: number, reason: string | Buffer | undefined): void {
  target.ours = true;
  try {
    if (code === 1005 || !isSendable(code)) target.sendClose();
    else target.sendClose(code, reason);
  } finally {
    target.ours = false;
  }
}

export function isSendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}
