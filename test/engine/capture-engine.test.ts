// The capture engine on its own worker thread, driven through the protocol exactly as the
// extension drives it: capture starts, a real HTTPS request through the proxy becomes a session
// announced by an event, its tree, view model and raw call are answered on request; an uncaught
// error in the engine ends its thread (the agent's stream fails at once, never stalls), and the
// engine starts again on the same port with the sessions read back from the store.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/app/capture-settings';
import { EngineClient } from '../../src/engine/engine-client';
import type { CaptureInfo, EngineEvent, SessionsEvent } from '../../src/engine/protocol';
import { startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { readFileSync } from 'node:fs';
import { until } from '../support/engine-events';
import { openFilesIn } from '../support/open-files';
import { applyViewPatch } from '../../src/shared/view-model-patch';
import type { ConversationViewModel } from '../../src/shared/conversation-view-model';

const HOST = 'api.anthropic.com';
/** Answers its head and one event, then nothing: a stream the crash must cut, not freeze. */
const HANG = 'hang.test';

describe('the capture engine on its own thread', { timeout: 90_000 }, () => {
  let pki: TestPki;
  let fake: FakeApiServer;
  let hang: Server;
  let dataDir: string;
  let engine: EngineClient;
  let capture: CaptureInfo;
  const events: EngineEvent[] = [];
  const exits: string[] = [];
  const sessions = new Map<string, string>();

  const settings = () => ({
    ...DEFAULT_SETTINGS,
    interceptHosts: [HOST, HANG],
    upstreamCaFiles: [pki.caCertPath],
    mapHosts: [`${HOST}:443=127.0.0.1:${fake.port}`, `${HANG}:443=127.0.0.1:${(hang.address() as { port: number }).port}`],
  });

  const ask = (prompt: string) => fetchVia(new TunnelAgent({ proxyUrl: capture.url, ca: readFileSync(capture.ca.certPath, 'utf8') }, { keepAlive: false }), HOST, 443, {
    method: 'POST', path: '/v1/messages',
    headers: { 'content-type': 'application/json', 'user-agent': 'claude-cli/2.0.0 (external, cli)' },
    body: [JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 100, metadata: { user_id: 'user_x_account__session_0b9f3c1e-1111-4222-8333-444455556666' }, messages: [{ role: 'user', content: prompt }] })],
  });

  before(async () => {
    pki = createTestPki();
    fake = await startFakeAnthropic(pki.serverCert([HOST]));
    hang = createServer(pki.serverCert([HANG]), (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"first":true}\n\n');
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-engine-'));
    engine = new EngineClient();
    engine.onEvent((e) => {
      events.push(e);
      if (e.type !== 'sessions') return;
      if (e.reset) sessions.clear();
      for (const r of e.retired) sessions.delete(r.id);
      for (const s of e.sessions) sessions.set(s.id, s.title);
    });
    engine.onExit((reason) => exits.push(reason));
  });

  after(async () => {
    await engine?.dispose();
    await fake?.close();
    hang?.closeAllConnections();
    hang?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** Nice values of this process's threads (Linux): the main thread's, and the others'. */
  function threadNices(): { main: number; others: number[] } {
    const nice = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const others = readdirSync('/proc/self/task').filter((t) => t !== String(process.pid)).map(nice);
    return { main: nice(String(process.pid)), others };
  }

  it('starts no thread until asked', () => {
    assert.equal(engine.started, false);
  });

  it('captures a call and answers for its session on request', async () => {
    capture = await engine.request('capture.start', { dataDir, settings: settings(), token: 'secret-token' });
    assert.equal(engine.started, true);
    assert.match(capture.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await ask('Say hello');
    assert.equal(answer.statusCode, 200);
    if (process.platform === 'linux') {
      // The engine's thread and the proxy's, which it started, yield to the main thread (docs/decisions.md, decision 48).
      const { main, others } = threadNices();
      assert.equal(main, 0);
      assert.ok(others.filter((n) => n === 10).length >= 2, `nice values of the other threads: ${others.join(' ')}`);
    }

    const sessionId = await until('the session event', () => [...sessions.keys()][0]);
    const event = events.find((e): e is SessionsEvent => e.type === 'sessions' && e.sessions.length > 0);
    assert.equal(event?.sessions[0].client, 'claude-code');

    const tree = await engine.request('sessions.tree', { sessionId });
    assert.ok(tree && tree.length >= 2, 'the session node and a turn');
    const model = await engine.request('conversation.model', { sessionId });
    assert.equal(model?.sessionId, sessionId);
    const callId = model?.threads[0].turns[0].llmCallIds[0];
    assert.ok(callId);
    const raw = await engine.request('conversation.raw', { sessionId, callId });
    assert.ok('view' in raw, `raw call: ${'error' in raw ? raw.error : ''}`);
    assert.equal(raw.view.status, 200);
    const foreign = await engine.request('conversation.raw', { sessionId: 'no-such-session', callId });
    assert.deepEqual(foreign, { error: 'This call is not part of the session shown.' });
    const markdown = await engine.request('session.markdown', { sessionId });
    assert.match(markdown ?? '', /Say hello/);
    const log = await engine.request('activity.page', { limit: 10 });
    assert.ok(log?.some((entry) => entry.url.endsWith('/v1/messages')));
  });

  it('a page\'s update is a patch against the model it has, until the page is closed (docs/decisions.md, decision 76)', async () => {
    const sessionId = [...sessions.keys()][0]!;
    const first = await engine.request('conversation.view', { sessionId });
    assert.ok(first && 'model' in first, 'asked without a revision: the whole model');
    const turns = (m: ConversationViewModel) => m.threads.reduce((n, t) => n + t.turns.length, 0);
    assert.equal((await ask('Say hello again')).statusCode, 200);
    await until('the second turn', async () => {
      const m = await engine.request('conversation.model', { sessionId });
      return m && turns(m) > turns(first.model) ? true : undefined;
    });
    const next = await engine.request('conversation.view', { sessionId, since: first.revision });
    assert.ok(next && 'patch' in next && next.base === first.revision, 'a patch against the revision given');
    assert.deepEqual(applyViewPatch(first.model, next.patch), await engine.request('conversation.model', { sessionId }));
    await engine.request('conversation.forget', { sessionId });
    const after = await engine.request('conversation.view', { sessionId, since: next.revision });
    assert.ok(after && 'model' in after, 'forgotten: whole again');
    // No call in progress: no previews, and asked again with that revision, nothing to send.
    const live = await engine.request('conversation.live', { sessionId });
    assert.ok('turns' in live && live.turns.length === 0);
    assert.deepEqual(await engine.request('conversation.live', { sessionId, since: live.revision }), { revision: live.revision, unchanged: true });
  });

  it('an unknown method is an error answer, not the end of the thread', async () => {
    await assert.rejects(engine.request('no.such.method' as 'capture.stop', {}), /no method "no\.such\.method"/);
    assert.equal(engine.started, true);
  });

  it('a crash in the engine fails the stream at once and leaves the client ready for a restart on the same port', async () => {
    // A stream in flight that never ends by itself: only an error can end it.
    let openBeforeCrash: string[] = [];
    const streamed = new Promise<string>((resolve) => {
      const req = request({
        host: HANG, port: 443, path: '/v1/messages', method: 'POST',
        agent: new TunnelAgent({ proxyUrl: capture.url, ca: readFileSync(capture.ca.certPath, 'utf8') }, { keepAlive: false }),
        headers: { 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.once('data', () => {
          openBeforeCrash = openFilesIn(dataDir);
          void engine.request('test.crash', {});
        });
        res.on('error', (e) => resolve(`response error: ${e.message}`));
        res.on('aborted', () => resolve('response aborted'));
        res.on('end', () => resolve('ended cleanly'));
      });
      req.on('error', (e) => resolve(`request error: ${e.message}`));
      req.end(JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'a long answer please' }] }));
    });
    const outcome = await streamed;
    await until('the exit', () => exits[0]);
    assert.match(exits[0], /crash requested by a test/);
    assert.match(outcome, /error|aborted/);
    assert.equal(engine.started, false);
    // The dead thread's files (journal, segments, the unlinked spill file) are closed with it
    // (Worker's trackUnmanagedFds, on by default), so the space of the files it had removed is
    // freed and restarts do not pile up descriptors.
    assert.ok(openBeforeCrash.some((f) => f.includes('journal')), `the engine had its journal open: ${openBeforeCrash.join(', ')}`);
    await until('the dead thread\'s files closed', () => openFilesIn(dataDir).length === 0);

    // What the controller does: start again on the same port.
    const again = await engine.request('capture.start', { dataDir, settings: settings(), token: 'secret-token', port: capture.port, reclaimLock: true });
    assert.equal(again.port, capture.port);
    assert.equal((await ask('After the restart')).statusCode, 200);
    await until('the call after the restart', async () => {
      for (const id of sessions.keys()) {
        const md = await engine.request('session.markdown', { sessionId: id });
        if (md?.includes('After the restart') && md.includes('Say hello')) return true;
      }
      return undefined;
    });
  });

  it('stops capture and keeps showing what was captured, read-only', async () => {
    await engine.request('capture.stop', {});
    await engine.request('history.want', { dataDir });
    const id = await until('a session', () => [...sessions.keys()][0]);
    assert.ok(await engine.request('conversation.model', { sessionId: id }));
  });
});
