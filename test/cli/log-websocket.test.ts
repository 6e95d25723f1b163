// `llm-capture log` through the real CLI: a Codex WebSocket (recorded frames replayed through the
// proxy) is shown by its messages and bytes, and its close without a close frame is an error only
// when it cut a response off; requests the proxy refuses itself show the 502 the client got; JSON
// times are whole milliseconds.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { buildRawCallView } from '../../src/app/raw-call-view';
import { wsMessagesOf } from '../../src/app/store-reading';
import { toHar } from '../../src/har';
import { CaptureStore } from '../../src/store';
import type { FakeApiServer } from '../support/fake-anthropic';
import { loadClientWs } from '../llm/fixture-loader';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { loadCodexSocket, playClient, startReplayServer, type RecordedSocket } from '../support/ws-replay';
import { runCli, startCliProxy, type RunningCliProxy } from './cli-process';

interface Entry {
  url: string; kind: string; status?: number; byProxy?: boolean; error?: string; durationMs?: number;
  messages?: number; messageBytesFromClient?: number; messageBytesToClient?: number;
  close?: { code: number; by: string; frame: boolean };
}

const COMPLETE = 'complete.openai.test';
const CUT = 'cut.openai.test';
const REFUSED = 'api.mistral.ai';
const TUNNEL_REFUSED = 'elsewhere.example.test';

/** The status line the proxy answers a CONNECT with. */
async function connectStatus(proxyUrl: string, host: string): Promise<number> {
  const { hostname, port } = new URL(proxyUrl);
  const req = httpRequest({ host: hostname, port: Number(port), method: 'CONNECT', path: `${host}:443`, agent: false });
  req.end();
  return new Promise((resolve, reject) => {
    req.once('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 0); });
    req.once('error', reject);
  });
}

describe('log: WebSockets, proxy answers and JSON times', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let dataDir: string;
  let proxy: RunningCliProxy;
  let agent: TunnelAgent;
  let recording: RecordedSocket;
  const servers: FakeApiServer[] = [];
  let entries: Entry[];
  let text: string;

  before(async () => {
    pki = createTestPki();
    recording = loadCodexSocket('01-ws-default-provider', 1);
    const tls = pki.serverCert([COMPLETE, CUT]);
    const complete = await startReplayServer(tls, recording);
    const cut = await startReplayServer(tls, recording, 1);
    servers.push(complete, cut);
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-cli-log-'));
    proxy = await startCliProxy(['--data-dir', dataDir, '--quiet', '--intercept', `${COMPLETE},${CUT},${REFUSED}`, '--upstream-ca', pki.caCertPath,
      '--map', `${COMPLETE}:443=127.0.0.1:${complete.port}`, '--map', `${CUT}:443=127.0.0.1:${cut.port}`, '--only-mapped']);
    agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: false });

    // A whole Codex turn, then the socket dropped without a close frame, as Codex does after every turn.
    await playClient(agent, COMPLETE, recording);
    // The same, dropped while the last response was still streaming (its response.completed never came).
    await playClient(agent, CUT, recording, 1);
    // Refused by the proxy itself (--only-mapped): over HTTP and as a WebSocket upgrade.
    const refused = await fetchVia(agent, REFUSED, 443, { method: 'POST', path: '/v1/chat/completions', body: ['{}'] });
    assert.equal(refused.statusCode, 502);
    const ws = new WebSocket(`wss://${REFUSED}/v1/responses`, { agent });
    const upgradeStatus = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(0));
    });
    assert.equal(upgradeStatus, 502);
    // A CONNECT to a host that is not intercepted, refused by --only-mapped instead of tunnelled.
    assert.equal(await connectStatus(proxy.url, TUNNEL_REFUSED), 502);
    assert.equal(await proxy.stop(), 0, proxy.stderr());

    const json = await runCli(['log', '--data-dir', dataDir, '--json']);
    assert.equal(json.code, 0, json.stderr);
    entries = JSON.parse(json.stdout) as Entry[];
    const plain = await runCli(['log', '--data-dir', dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    text = plain.stdout;
  });

  after(async () => {
    agent?.destroy();
    await proxy?.stop();
    for (const s of servers) await s.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const socketOf = (host: string) => entries.find((e) => e.kind === 'websocket' && new URL(e.url).hostname === host);
  const lineOf = (host: string, kind: string) => text.split('\n').find((l) => l.includes(`://${host}/`) && l.includes(` ${kind}`)) ?? '';

  it('a WebSocket is shown by its message count and bytes each way', () => {
    const sent = recording.frames.filter((f) => f.dir === 'in');
    const got = recording.frames.filter((f) => f.dir === 'out');
    const entry = socketOf(COMPLETE);
    assert.ok(entry, JSON.stringify(entries));
    assert.equal(entry.messages, recording.frames.length);
    assert.equal(entry.messageBytesFromClient, sent.reduce((n, f) => n + Buffer.byteLength(f.text), 0));
    assert.equal(entry.messageBytesToClient, got.reduce((n, f) => n + Buffer.byteLength(f.text), 0));
    assert.deepEqual(entry.close, { code: 1006, by: 'client', frame: false });
    assert.match(lineOf(COMPLETE, 'websocket'), new RegExp(` 101 websocket ${recording.frames.length} msgs \\d+(\\.\\d)?KB→\\d+(\\.\\d)?KB `));
  });

  it('a socket dropped after its last response completed is not an error', () => {
    assert.equal(socketOf(COMPLETE)?.error, undefined);
    assert.doesNotMatch(lineOf(COMPLETE, 'websocket'), /ERROR/);
  });

  it('a socket dropped in the middle of a response is an error', () => {
    assert.match(socketOf(CUT)?.error ?? '', /client closed without a close frame \(1006\) while a response was unfinished/);
    assert.match(lineOf(CUT, 'websocket'), /ERROR: client closed without a close frame/);
  });

  it('the close stays in the raw-call view and the HAR export', async () => {
    const store = await CaptureStore.open({ dataDir, mode: 'reader' });
    try {
      const x = store.listExchanges({ limit: 50 }).items.find((e) => e.kind === 'websocket' && e.url.includes(COMPLETE));
      assert.ok(x);
      const view = buildRawCallView(store, `${x.id}:0`);
      assert.ok(!('error' in view));
      assert.equal(view.outcome, 'client-aborted');
      assert.deepEqual(view.wsMessages?.filter((m) => m.opcode === 'close').map((m) => [m.direction, m.text]), [['client-to-server', '1006']]);
      const exchange = store.getExchange(x.id)!;
      const har = toHar([{ exchange, wsMessages: wsMessagesOf(store, x.id) }], 'test');
      const entry = har.log.entries[0]!;
      assert.equal(entry._llmCapture?.outcome, 'client-aborted');
      assert.deepEqual(entry._webSocketMessages?.filter((m) => m.opcode === 8).map((m) => [m.type, m.data]), [['send', '1006']]);
    } finally {
      await store.close();
    }
  });

  it('a request the proxy refuses shows the 502 the client got, marked as the proxy\'s', () => {
    const http = entries.find((e) => e.kind === 'http' && new URL(e.url).hostname === REFUSED);
    assert.equal(http?.status, 502);
    assert.equal(http?.byProxy, true);
    assert.match(http?.error ?? '', /--only-mapped/);
    const upgrade = socketOf(REFUSED);
    assert.equal(upgrade?.status, 502);
    assert.equal(upgrade?.byProxy, true);
    assert.equal(upgrade?.messages, undefined, 'a refused upgrade carried no messages');
    assert.match(lineOf(REFUSED, 'http'), / 502 \(proxy\) http /);
  });

  it('a CONNECT the proxy refuses shows the 502 the client got, marked as the proxy\'s', () => {
    const tunnel = entries.find((e) => e.kind === 'tunnel' && e.url === `${TUNNEL_REFUSED}:443`);
    assert.equal(tunnel?.status, 502);
    assert.equal(tunnel?.byProxy, true);
    const line = text.split('\n').find((l) => l.includes(` ${TUNNEL_REFUSED}:443 `)) ?? '';
    assert.match(line, / 502 \(proxy\) tunnel/);
  });

  it('JSON times and durations are whole milliseconds', async () => {
    for (const e of entries) if (e.durationMs !== undefined) assert.ok(Number.isInteger(e.durationMs), `log: ${e.durationMs}`);
    const sessions = await runCli(['sessions', '--data-dir', dataDir, '--json']);
    assert.equal(sessions.code, 0, sessions.stderr);
    const list = JSON.parse(sessions.stdout) as { id: string; startedAt: number; endedAt: number }[];
    assert.ok(list.length > 0);
    for (const s of list) assert.ok(Number.isInteger(s.startedAt) && Number.isInteger(s.endedAt), `sessions: ${s.startedAt} ${s.endedAt}`);
    const show = await runCli(['show', list[0]!.id, '--data-dir', dataDir, '--json']);
    assert.equal(show.code, 0, show.stderr);
    const detail = JSON.parse(show.stdout) as { threads: { startedAt: number; endedAt: number; turns: { startedAt: number; endedAt: number }[] }[] };
    const times = detail.threads.flatMap((t) => [t.startedAt, t.endedAt, ...t.turns.flatMap((u) => [u.startedAt, u.endedAt])]);
    assert.ok(times.length > 2);
    for (const t of times) assert.ok(Number.isInteger(t), `show: ${t}`);
  });
});

describe('log: a store written when an abrupt close was recorded as an error', { timeout: 60_000 }, () => {
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-cli-log-legacy-'));
    const store = await CaptureStore.open({ dataDir, mode: 'writer' });
    // Two Codex sockets as the recorder used to store them: the close message, and its error too.
    for (const [id, cut] of [[1, false], [2, true]] as const) {
      const { exchange, wsMessages } = loadClientWs('codex/01-ws-default-provider', 1);
      // Cut: the last response's response.completed never came before the close.
      const messages = cut ? wsMessages!.filter((_m, i) => i !== wsMessages!.length - 2) : wsMessages!;
      store.connectionUpdated({ id, clientAddress: '127.0.0.1', clientPort: 40000 + id, targetHost: 'api.openai.com', targetPort: 443,
        mode: 'intercept', tlsOutcome: 'ok', openedAt: exchange.startedAt });
      store.exchangeUpdated({ ...exchange, id, connectionId: id, outcome: 'client-aborted', errors: ['client closed without a close frame (1006)'] });
      // The client dropped the socket: the recorder stored a close of the client's, with no payload.
      messages.forEach((m, seq) => store.wsMessage(m.opcode === 'close'
        ? { ...m, exchangeId: id, seq, direction: 'client-to-server', size: 0 }
        : { ...m, exchangeId: id, seq }));
    }
    await store.close();
  });

  after(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the old error as the close it describes, and blames it only for a cut-off response', async () => {
    const json = await runCli(['log', '--data-dir', dataDir, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as Entry[];
    assert.equal(entries.length, 2);
    const [cut, complete] = entries;
    assert.deepEqual(complete!.close, { code: 1006, by: 'client', frame: false });
    assert.equal(complete!.error, undefined);
    assert.equal(complete!.messages, 20);
    assert.match(cut!.error ?? '', /^client closed without a close frame \(1006\) while a response was unfinished$/);
  });
});
