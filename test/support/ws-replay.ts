// Replays a recorded Codex WebSocket (test/fixtures/llm/wire/clients/codex/*/ws-frames-connN.jsonl)
// between a real `ws` client and a real `ws` server, so that the proxy in between sees the frames
// as they were on the wire. The server answers each client frame with the recorded server frames
// that followed it; `withhold` frames at the very end are never sent (a response cut off).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Agent } from 'node:https';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { listen, type FakeApiServer } from './fake-anthropic';

const CODEX = join(__dirname, '..', 'fixtures', 'llm', 'wire', 'clients', 'codex');

export interface RecordedSocket {
  url: string;
  headers: Record<string, string>;
  /** Text frames in order; `in` is client to server. */
  frames: { dir: 'in' | 'out'; text: string }[];
}

export function loadCodexSocket(scenario: string, conn: number): RecordedSocket {
  const handshake = JSON.parse(readFileSync(join(CODEX, scenario, `ws-handshake-conn${conn}.json`), 'utf8')) as { url: string; headers: Record<string, string> };
  const frames = readFileSync(join(CODEX, scenario, `ws-frames-conn${conn}.jsonl`), 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { dir: string; data?: unknown })
    .filter((f): f is { dir: 'in' | 'out'; data: unknown } => f.dir === 'in' || f.dir === 'out')
    .map((f) => ({ dir: f.dir, text: typeof f.data === 'string' ? f.data : JSON.stringify(f.data) }));
  return { url: handshake.url, headers: handshake.headers, frames };
}

/** A server that plays the `out` side of `recording`: after each client frame, the server frames that followed it. */
export async function startReplayServer(tls: { key: string; cert: string }, recording: RecordedSocket, withhold = 0): Promise<FakeApiServer> {
  const server = createServer(tls, (_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  const plays = recording.frames.slice(0, recording.frames.length - withhold);
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    let at = 0;
    ws.on('error', () => undefined);
    ws.on('message', () => {
      // The client frame just received is plays[at]; answer with what came after it.
      at++;
      while (at < plays.length && plays[at].dir === 'out') ws.send(plays[at++].text);
    });
  }));
  const api = await listen(server, []);
  return {
    ...api,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await api.close();
    },
  };
}

/**
 * Plays the `in` side through `agent` (a TunnelAgent through the proxy): each client frame once
 * the server frames before it have arrived; after the last server frame that will come, the
 * socket is dropped without a close frame, as Codex does.
 */
export async function playClient(agent: Agent, host: string, recording: RecordedSocket, withhold = 0): Promise<void> {
  const { host: _host, 'sec-websocket-key': _key, 'sec-websocket-version': _v, 'sec-websocket-extensions': _x, connection: _c, upgrade: _u, ...headers } = recording.headers;
  const ws = new WebSocket(`wss://${host}${recording.url}`, { agent, perMessageDeflate: true, headers });
  const frames = recording.frames;
  const expectedOut = frames.filter((f) => f.dir === 'out').length - withhold;
  let received = 0;
  let next = 0;
  const sendUntilOut = () => {
    while (next < frames.length && frames[next].dir === 'in') ws.send(frames[next++].text);
  };
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', sendUntilOut);
    ws.on('message', () => {
      received++;
      next++;
      if (received === expectedOut) return resolve();
      if (frames[next]?.dir === 'in') sendUntilOut();
    });
  });
  ws.terminate();
}
