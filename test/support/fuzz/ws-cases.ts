// WebSocket fuzz cases (permessage-deflate): text and binary messages, fragments, invalid UTF-8,
// 16 MB messages, pings, closes from either side and abrupt ends. A case is played against the
// echo server directly and through the proxy; the two transcripts must be the same.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import { WebSocket } from 'ws';
import { closeCommand } from '../fake-upstream';
import type { Rng } from './rng';

type WsStep =
  | { kind: 'message'; data: Buffer; binary: boolean; fragments: number }
  | { kind: 'ping'; data: Buffer }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'server-close'; code: number; reason: string }
  | { kind: 'terminate' };

export interface WsFuzzCase {
  name: string;
  steps: WsStep[];
}

export function wsCase(rng: Rng): WsFuzzCase {
  const steps: WsStep[] = [];
  const names: string[] = [];
  for (let i = rng.int(1, 6); i > 0; i--) {
    const pick = rng.int(0, 99);
    if (pick < 35) {
      steps.push({ kind: 'message', data: Buffer.from(`{"type":"response.create","n":${rng.int(0, 1e6)},"text":"${'é✓'.repeat(rng.int(0, 2000))}"}`), binary: false, fragments: rng.int(1, 4) });
      names.push('text');
    } else if (pick < 55) {
      steps.push({ kind: 'message', data: rng.bytes(rng.int(0, 70_000)), binary: true, fragments: rng.int(1, 3) });
      names.push('binary');
    } else if (pick < 65) {
      steps.push({ kind: 'message', data: Buffer.concat([Buffer.from('{"bad":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), binary: false, fragments: 1 });
      names.push('invalid-utf8');
    } else if (pick < 70) {
      steps.push({ kind: 'message', data: rng.chance(0.5) ? Buffer.alloc(16 * 1024 * 1024, 0x61) : rng.bytes(16 * 1024 * 1024), binary: true, fragments: 1 });
      names.push('16MB');
    } else if (pick < 80) {
      steps.push({ kind: 'ping', data: rng.bytes(rng.int(0, 125)) });
      names.push('ping');
    } else if (pick < 88) {
      steps.push({ kind: 'close', code: rng.pick([1000, 1001, 3000, 4000, 4999]), reason: rng.pick(['', 'bye', 'ü'.repeat(20)]) });
      names.push('close');
    } else if (pick < 95) {
      steps.push({ kind: 'server-close', code: rng.pick([1000, 1008, 1011, 4001]), reason: rng.pick(['', 'server says bye']) });
      names.push('server-close');
    } else {
      steps.push({ kind: 'terminate' });
      names.push('terminate');
    }
  }
  return { name: names.join('+'), steps };
}

/** What the client saw: each message's kind and hash, then how the socket ended. */
export type Transcript = string[];

/** Plays a case and returns what the client saw. `agent` tunnels through the proxy or dials directly. */
export async function playWsCase(url: string, agent: Agent, c: WsFuzzCase): Promise<Transcript> {
  const seen: Transcript = [];
  const ws = new WebSocket(url, { agent, perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
  ws.on('message', (data: Buffer, binary: boolean) => void seen.push(`${binary ? 'bin' : 'text'} ${data.length} ${createHash('sha256').update(data).digest('hex').slice(0, 12)}`));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', (code: number, reason: Buffer) => {
    seen.push(`close ${code} ${reason.toString()}`);
    resolve();
  }));
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  if (!opened) return ['did not open', ...seen];
  for (const step of c.steps) {
    if (ws.readyState !== WebSocket.OPEN) break;
    if (step.kind === 'message') {
      const size = Math.ceil(step.data.length / step.fragments) || 1;
      for (let at = 0, n = 0; n < step.fragments; n++, at += size) {
        ws.send(step.data.subarray(at, at + size), { binary: step.binary, fin: n === step.fragments - 1, compress: true });
      }
    } else if (step.kind === 'ping') {
      ws.ping(step.data);
    } else if (step.kind === 'close') {
      ws.close(step.code, step.reason);
    } else if (step.kind === 'server-close') {
      ws.send(closeCommand(step.code, step.reason));
    } else {
      // Abrupt: wait for the echoes so far, then drop the connection without a close frame.
      await echoes(ws, seen, c, step);
      ws.terminate();
    }
  }
  if (ws.readyState === WebSocket.OPEN) {
    await echoes(ws, seen, c);
    ws.close(1000, 'done');
  }
  await closed;
  return seen;
}

/** Waits until every message sent before `until` has come back (the echo answers in order). */
async function echoes(ws: WebSocket, seen: Transcript, c: WsFuzzCase, until?: WsStep): Promise<void> {
  const end = until ? c.steps.indexOf(until) : c.steps.length;
  const expected = c.steps.slice(0, end).filter((s) => s.kind === 'message').length;
  const deadline = Date.now() + 20_000; // only catches a hang
  while (seen.filter((s) => !s.startsWith('close')).length < expected && ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
