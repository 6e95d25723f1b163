// One capture cannot take down the list: requests whose JSON nests 100,000 levels deep (in the
// metadata, a tool's input, a tool's result, a tool's schema, the system prompt) are captured
// through the real CLI proxy beside a normal one, and `sessions`, `show` and `export` still work for
// every session; the too-deep parts read as a placeholder, the raw bodies stay whole.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOO_DEEP } from '../../src/llm/json-value';
import { startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { runCli, startCliProxy } from './cli-process';

const DEPTH = 100_000;
const DEEP_OBJECT = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const DEEP_ARRAY = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;

function request(prompt: string, extra = '', messages?: string): string {
  return `{"model":"claude-test","max_tokens":10,"stream":true,${extra}"messages":${messages ?? `[{"role":"user","content":"${prompt}"}]`}}`;
}

const toolTurn = (input: string, result: string): string =>
  `[{"role":"user","content":"use the tool"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"probe","input":${input}}]},`
  + `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":${result}}]}]`;

const BODIES: Record<string, string> = {
  normal: request('an ordinary prompt'),
  metadata: request('deep metadata', `"metadata":${DEEP_OBJECT},`),
  system: request('deep system prompt', `"system":${DEEP_ARRAY},`),
  schema: request('deep tool schema', `"tools":[{"name":"probe","description":"d","input_schema":${DEEP_OBJECT}}],`),
  toolInput: request('', '', toolTurn(DEEP_OBJECT, '"ok"')),
  toolResult: request('', '', toolTurn('{}', `[{"type":"text","text":"ok","extra":${DEEP_ARRAY}}]`)),
};

describe('deeply nested JSON in a capture', { timeout: 180_000 }, () => {
  let pki: TestPki;
  let fake: FakeApiServer;
  let dataDir: string;

  before(async () => {
    pki = createTestPki();
    fake = await startFakeAnthropic(pki.serverCert(['api.anthropic.com']));
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-deep-'));
    const proxy = await startCliProxy(['--data-dir', dataDir, '--intercept', 'api.anthropic.com', '--upstream-ca', pki.caCertPath,
      '--map', `api.anthropic.com:443=127.0.0.1:${fake.port}`, '--only-mapped']);
    const agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: false });
    try {
      for (const [name, body] of Object.entries(BODIES)) {
        const res = await fetchVia(agent, 'api.anthropic.com', 443, {
          method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json', 'user-agent': `claude-cli/2.0.0 (external, cli) ${name}` }, body: [body],
        });
        assert.equal(res.statusCode, 200, `${name}: ${res.body.toString()}`);
      }
    } finally {
      agent.destroy();
      assert.equal(await proxy.stop(), 0, proxy.stderr());
    }
  });

  after(async () => {
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('sessions lists every capture, the deep ones beside the normal one', async () => {
    const listed = await runCli(['sessions', '--json', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    const sessions = JSON.parse(listed.stdout) as { id: string; callCount: number }[];
    assert.equal(sessions.reduce((n, s) => n + s.callCount, 0), Object.keys(BODIES).length);
    const plain = await runCli(['sessions', '--data-dir', dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /an ordinary prompt/);
  });

  it('show opens every session; a too-deep part reads as the placeholder', async () => {
    const sessions = JSON.parse((await runCli(['sessions', '--json', '--data-dir', dataDir])).stdout) as { id: string }[];
    let placeholders = 0;
    for (const { id } of sessions) {
      for (const format of [[], ['--json']]) {
        const shown = await runCli(['show', id, ...format, '--data-dir', dataDir]);
        assert.equal(shown.code, 0, `${id}: ${shown.stderr}`);
        if (shown.stdout.includes(TOO_DEEP) || shown.stdout.includes(JSON.stringify(TOO_DEEP).slice(1, -1))) placeholders++;
      }
    }
    assert.ok(placeholders > 0, 'no session showed the placeholder');
  });

  it('export writes every body whole', async () => {
    const file = join(dataDir, 'all.har');
    const exported = await runCli(['export', '--har', file, '--data-dir', dataDir]);
    assert.equal(exported.code, 0, exported.stderr);
    const har = readFileSync(file, 'utf8');
    assert.ok(har.includes('{\\"a\\":'.repeat(1000)), 'a deep request body was not exported whole');
  });
});
