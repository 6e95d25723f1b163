// What `llm-capture proxy` prints while it captures, through the real CLI process: a line per LLM
// call as it completes (client, model, session, tokens, cost, duration, status or error), a line
// the first time a host is tunnelled blind or refused, other exchanges only with --verbose, and
// none of these with --quiet.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listen, startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { fetchVia, openTunnel, tlsThroughProxy, TunnelAgent, TunnelError } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { runCli, startCliProxy, type RunningCliProxy } from './cli-process';

const SESSION = '3f2a9c1d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const OVERLOADED = 'overloaded.anthropic.test';
const BLIND = 'blind.example.test';
const ELSEWHERE = 'elsewhere.example.test';
const UNMAPPED = 'api.mistral.ai';
const UNTRUSTED = 'untrusted.example.test';
const TIME = '\\d\\d:\\d\\d:\\d\\d';

interface World {
  pki: TestPki;
  anthropic: FakeApiServer;
  overloaded: FakeApiServer;
  blind: Server;
  dirs: string[];
}

async function startWorld(): Promise<World> {
  const pki = createTestPki();
  const anthropic = await startFakeAnthropic(pki.serverCert(['api.anthropic.com']));
  // Anthropic's answer when it is overloaded.
  const server = createHttpsServer(pki.serverCert([OVERLOADED]), (req, res) => {
    req.resume();
    const body = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    res.writeHead(529, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  const overloaded = await listen(server, []);
  const blind = createTcpServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => blind.listen(0, '127.0.0.1', resolve));
  return { pki, anthropic, overloaded, blind, dirs: [pki.dir] };
}

async function startProxy(world: World, flags: string[]): Promise<{ proxy: RunningCliProxy; agent: TunnelAgent; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-cli-output-'));
  world.dirs.push(dataDir);
  const proxy = await startCliProxy(['--data-dir', dataDir, ...flags, '--only-mapped', '--upstream-ca', world.pki.caCertPath,
    '--intercept', ['api.anthropic.com', OVERLOADED, UNMAPPED, UNTRUSTED].join(','),
    '--map', `api.anthropic.com:443=127.0.0.1:${world.anthropic.port}`, '--map', `${OVERLOADED}:443=127.0.0.1:${world.overloaded.port}`,
    '--map', `${BLIND}:443=127.0.0.1:${(world.blind.address() as AddressInfo).port}`]);
  const agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: false });
  return { proxy, agent, dataDir };
}

/** A streamed Claude Code request; TOOL in the prompt gets a Bash tool call from the fake. */
function messages(agent: TunnelAgent, prompt: string, host = 'api.anthropic.com') {
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5-20250929', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: prompt }],
    tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  });
  return fetchVia(agent, host, 443, {
    method: 'POST', path: '/v1/messages?beta=true', body: [body],
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-claude-code-session-id': SESSION, 'user-agent': 'claude-cli/2.1.197 (external, cli)' },
  });
}

async function tunnelTwice(proxyUrl: string, host: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const socket = await openTunnel(proxyUrl, host, 443);
    const echoed = new Promise((resolve) => socket.once('data', resolve));
    socket.write('ping');
    await echoed;
    socket.destroy();
  }
}

async function refusedTwice(proxyUrl: string, host: string): Promise<void> {
  for (let i = 0; i < 2; i++) await assert.rejects(openTunnel(proxyUrl, host, 443), (e) => e instanceof TunnelError && e.statusCode === 502);
}

/** Resolves once stdout has a line matching each pattern; fails with what was printed if that never happens. */
async function waitForLines(proxy: RunningCliProxy, patterns: RegExp[]): Promise<string[]> {
  // A limit against hanging, not a measurement: the lines come within a second or so.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = proxy.stdout().split('\n');
    const missing = patterns.filter((p) => !lines.some((l) => p.test(l)));
    if (missing.length === 0) return lines;
    if (Date.now() > deadline) assert.fail(`no line matches ${missing.join(', ')} in:\n${proxy.stdout()}\n${proxy.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const count = (lines: string[], pattern: RegExp) => lines.filter((l) => pattern.test(l)).length;

describe('proxy output', { timeout: 120_000 }, () => {
  let world: World;

  before(async () => {
    world = await startWorld();
  });

  after(async () => {
    await world?.anthropic.close();
    await world?.overloaded.close();
    world?.blind.close();
    for (const d of world?.dirs ?? []) rmSync(d, { recursive: true, force: true });
  });

  it('prints a line per LLM call, and one per host tunnelled or refused', async () => {
    const { proxy, agent } = await startProxy(world, []);
    try {
      assert.equal((await messages(agent, 'hello')).statusCode, 200);
      assert.equal((await messages(agent, 'please run TOOL')).statusCode, 200);
      assert.equal((await messages(agent, 'hello again', OVERLOADED)).statusCode, 529);
      assert.equal((await fetchVia(agent, 'api.anthropic.com', 443, { path: '/api/hello' })).statusCode, 404);
      assert.equal((await fetchVia(agent, UNMAPPED, 443, { path: '/v1/models' })).statusCode, 502);
      assert.equal((await fetchVia(agent, UNMAPPED, 443, { path: '/v1/models' })).statusCode, 502);
      await tunnelTwice(proxy.url, BLIND);
      await refusedTwice(proxy.url, ELSEWHERE);
      await assert.rejects(tlsThroughProxy({ proxyUrl: proxy.url }, UNTRUSTED));

      const call = new RegExp(`^${TIME} claude-code claude-sonnet-4-5-20250929 ${SESSION.slice(0, 8)} in 42 out 17 \\$0\\.0004 \\d+ms 200$`);
      const error = new RegExp(`^${TIME} claude-code claude-sonnet-4-5-20250929 ${SESSION.slice(0, 8)} in 0 out 0 \\$0\\.0000 \\d+ms ERROR 529 overloaded_error: Overloaded$`);
      const tunnel = new RegExp(`^${TIME} tunnel ${BLIND}:443 \\(not intercepted\\)$`);
      const refusedConnect = new RegExp(`^${TIME} refused ${ELSEWHERE}:443: not mapped, and --only-mapped is set$`);
      const refusedRequest = new RegExp(`^${TIME} refused ${UNMAPPED}:443: not mapped, and --only-mapped is set$`);
      const rejected = new RegExp(`^${TIME} refused ${UNTRUSTED}:443: the client .*LLM Capture CA$`);
      await waitForLines(proxy, [call, error, tunnel, refusedConnect, refusedRequest, rejected]);
      assert.equal(await proxy.stop(), 0, proxy.stderr());
      const lines = proxy.stdout().split('\n');
      // The text turn and the tool turn; each host once, however often it was tunnelled or refused.
      assert.equal(count(lines, call), 2, lines.join('\n'));
      for (const once of [error, tunnel, refusedConnect, refusedRequest, rejected]) assert.equal(count(lines, once), 1, `${once}\n${lines.join('\n')}`);
      assert.ok(!lines.some((l) => l.includes('/api/hello')), 'other exchanges only with --verbose');
      // The start-up block comes first, on stdout too.
      assert.match(lines[0]!, /^listening on 127\.0\.0\.1:\d+$/);
    } finally {
      agent.destroy();
      await proxy.stop();
    }
  });

  it('--verbose adds a line per other captured exchange', async () => {
    const { proxy, agent } = await startProxy(world, ['--verbose']);
    try {
      assert.equal((await fetchVia(agent, 'api.anthropic.com', 443, { path: '/api/hello' })).statusCode, 404);
      await messages(agent, 'hello');
      await waitForLines(proxy, [
        new RegExp(`^${TIME} GET https://api\\.anthropic\\.com/api/hello 404 http \\d+B \\d+ms$`),
        new RegExp(`^${TIME} claude-code .* 200$`),
      ]);
    } finally {
      agent.destroy();
      await proxy.stop();
    }
  });

  it('--quiet prints the start-up block and nothing per call or host', async () => {
    const { proxy, agent, dataDir } = await startProxy(world, ['--quiet']);
    try {
      await messages(agent, 'hello');
      await tunnelTwice(proxy.url, BLIND);
      await refusedTwice(proxy.url, ELSEWHERE);
      // Stopping prints what is left to print, so whatever was due has been printed by now.
      assert.equal(await proxy.stop(), 0, proxy.stderr());
      assert.match(proxy.stdout(), /^listening on 127\.0\.0\.1:\d+$/m);
      assert.doesNotMatch(proxy.stdout(), new RegExp(`^${TIME} `, 'm'));
      assert.doesNotMatch(proxy.stderr(), /\[info\]/);
      // The call was captured all the same.
      const log = await runCli(['log', '--data-dir', dataDir, '--json']);
      assert.ok((JSON.parse(log.stdout) as { url: string }[]).some((e) => e.url.includes('/v1/messages')));
    } finally {
      agent.destroy();
      await proxy.stop();
    }
  });

  it('--quiet and --verbose together are a usage error', async () => {
    const result = await runCli(['proxy', '--quiet', '--verbose']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--quiet and --verbose cannot be combined/);
  });
});
