// The real Codex CLI (pinned in test/agents/package.json) runs `codex exec` through the proxy,
// which maps api.openai.com to a local fake and refuses every other upstream. Codex's default
// provider speaks the Responses API over a permessage-deflate WebSocket (prewarm, then frames
// chained by previous_response_id); a custom provider speaks it over HTTP + SSE. Both must reach
// the fake through the proxy and finish a text turn and a tool turn with a real shell command.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRecord, TOOL_MARKER } from '../support/fake-anthropic';
import { OPENAI_TEXT_ANSWER, startFakeOpenAi, type FakeOpenAi, type ResponsesCall } from '../support/fake-openai';
import { createTestPki, type TestPki } from '../support/test-pki';
import { AGENT_TIMEOUT_MS, agentEnv, agentGate, describeExchanges, describeRun, makeScratch, runAgent, startCaptureProxy, type CaptureProxy, type ExchangeRecord } from './harness';

const HOST = 'api.openai.com';
// Codex also asks chatgpt.com for its model list and plugins. Refused (502) it retries for
// seconds; the fake's 404, which is what the fixtures were captured with, ends that at once.
const SIDE_HOST = 'chatgpt.com';
// `codex exec` authenticates the built-in provider with CODEX_API_KEY (OPENAI_API_KEY is not read).
const CODEX_KEY = 'sk-llm-capture-fake-codex-key';
const PROVIDER_KEY = 'sk-llm-capture-fake-provider-key';
const gate = agentGate('codex');

// A custom provider pointed at the real host name, so the proxy (not the config) sends it to the fake.
const HTTP_PROVIDER_CONFIG = `model = "gpt-5.5"
model_provider = "fake"

[model_providers.fake]
name = "Fake Responses"
base_url = "https://${HOST}/v1"
env_key = "FAKE_OPENAI_KEY"
wire_api = "responses"
`;

interface CodexRun {
  stdout: string;
  sessionId: string;
  /** The response.create requests the fake saw for this session, in order. */
  calls: ResponsesCall[];
  exchanges: ExchangeRecord[];
}

describe('real Codex CLI through the proxy', { timeout: 7 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let fake: FakeOpenAi;
  let capture: CaptureProxy;

  before(async () => {
    // A missing CLI or network isolation skips each test, or fails it under LLM_CAPTURE_REQUIRE_AGENTS=1.
    if (gate.problem) return;
    pki = createTestPki();
    fake = await startFakeOpenAi(pki.serverCert([HOST, SIDE_HOST]));
    capture = await startCaptureProxy(pki.caCertPath, { [HOST]: fake.port, [SIDE_HOST]: fake.port });
  });

  after(async () => {
    await capture?.close();
    await fake?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  async function runCodex(prompt: string, config?: string): Promise<CodexRun> {
    const binary = gate.binary();
    const scratch = makeScratch('codex');
    const seen = capture.exchanges.length;
    const tunnelsSeen = capture.failedConnections.length;
    try {
      if (config) writeFileSync(join(scratch.codexHome, 'config.toml'), config);
      const env = agentEnv(scratch, capture.proxy.environment(), { CODEX_API_KEY: CODEX_KEY, FAKE_OPENAI_KEY: PROVIDER_KEY });
      const run = await runAgent(binary, ['exec', '--skip-git-repo-check', prompt], { env, cwd: scratch.work });
      await capture.settled();
      const exchanges = capture.exchanges.slice(seen);
      const why = describeRun(run, `what the proxy saw:\n${describeExchanges(exchanges, capture.failedConnections.slice(tunnelsSeen))}`);
      assert.equal(run.code, 0, why);
      const sessionId = /^session id: (\S+)$/m.exec(run.stderr)?.[1];
      assert.ok(sessionId, `Codex printed no session id\n${why}`);
      return { stdout: run.stdout, sessionId, calls: fake.calls.filter((c) => c.headers['session-id'] === sessionId), exchanges };
    } finally {
      scratch.cleanup();
    }
  }

  function assertHeaders(call: ResponsesCall, key: string, sessionId: string): void {
    assert.equal(call.headers.authorization, `Bearer ${key}`, 'the fake key reached the fake unchanged');
    assert.equal(call.headers['thread-id'], sessionId);
    assert.equal(call.headers.originator, 'codex_exec');
    assert.equal(call.headers.host, HOST, 'the original Host header is kept');
    assert.match(String(call.headers['user-agent']), /^codex_exec\/0\.169\.0 /);
  }

  /** Nothing on the mapped host was refused or failed; `kind` says which transport carried the model calls. */
  function assertTap(exchanges: ExchangeRecord[], kind: 'ws' | 'http', modelCalls: number): void {
    const mapped = exchanges.filter((x) => [HOST, SIDE_HOST].includes(new URL(x.url).hostname));
    const bad = mapped.filter((x) => x.outcome === 'refused' || x.outcome === 'upstream-error' || !x.outcome);
    assert.deepEqual(bad, [], 'no exchange with a mapped host was refused, failed or left unfinished');
    const mine = mapped.filter((x) => new URL(x.url).hostname === HOST);
    if (kind === 'ws') {
      const sockets = mine.filter((x) => x.upgrade && x.url === `wss://${HOST}/v1/responses` && x.status === 101);
      assert.equal(sockets.length, 1, 'one WebSocket carried the session');
      const creates = sockets[0].wsMessages.fromClient.filter((m) => m.includes('"response.create"'));
      assert.equal(creates.length, modelCalls + 1, 'the tap decoded every compressed response.create (and the prewarm)');
      assert.ok(sockets[0].wsMessages.fromServer.some((m) => m.includes('"response.completed"')));
    } else {
      const posts = mine.filter((x) => x.method === 'POST' && x.url === `https://${HOST}/v1/responses`);
      assert.equal(posts.length, modelCalls);
      for (const p of posts) assert.deepEqual([p.status, p.outcome], [200, 'complete']);
    }
  }

  test('WebSocket (default provider): a text turn prints the fake answer', { skip: gate.skip }, async () => {
    const { stdout, sessionId, calls, exchanges } = await runCodex('say hi');
    assert.ok(stdout.includes(OPENAI_TEXT_ANSWER), stdout);
    assert.equal(calls.length, 2, 'a prewarm and one turn');
    assert.ok(calls.every((c) => c.transport === 'ws'), 'no fallback to HTTP');
    assert.equal(calls[0].body.generate, false, 'the first frame is the prewarm');
    assert.equal(calls[0].headers['openai-beta'], 'responses_websockets=2026-02-06');
    const socket = fake.sockets.find((s) => s.headers['session-id'] === sessionId);
    assert.equal(socket?.extensions, 'permessage-deflate', 'the fake leg negotiated compression too');
    for (const c of calls) assertHeaders(c, CODEX_KEY, sessionId);
    assertTap(exchanges, 'ws', 1);
  });

  test('WebSocket (default provider): a code-mode tool turn runs a real command', { skip: gate.skip }, async () => {
    const { stdout, sessionId, calls, exchanges } = await runCodex('please TOOL run echo');
    assert.match(stdout, /FAKE-FINAL: the tool returned:/);
    assert.ok(stdout.includes(TOOL_MARKER), stdout);
    assert.equal(calls.length, 3, 'prewarm, the prompt, the tool output');
    assert.ok(calls.every((c) => c.transport === 'ws'));
    const [, prompt, followUp] = calls;
    // Later frames chain on the previous response and carry only the new input.
    const output = inputItems(followUp).find((i) => i.type === 'custom_tool_call_output');
    assert.ok(output, 'the follow-up carries the exec output');
    assert.ok(JSON.stringify(output.output).includes(TOOL_MARKER), 'the output of the real `echo` reached the fake');
    assert.equal(followUp.body.previous_response_id, prompt.responseId);
    for (const c of calls) assertHeaders(c, CODEX_KEY, sessionId);
    assertTap(exchanges, 'ws', 2);
  });

  test('WebSocket answered 426: the default provider falls back to HTTP + SSE at once', { skip: gate.skip }, async () => {
    // The proxy must hand a non-101 answer back as it came, or Codex would retry instead.
    fake.options.webSocket = 'reject';
    try {
      const { stdout, calls, exchanges } = await runCodex('say hi');
      assert.ok(stdout.includes(OPENAI_TEXT_ANSWER), stdout);
      assert.deepEqual(calls.map((c) => c.transport), ['http']);
      const upgrades = exchanges.filter((x) => x.upgrade && x.url === `wss://${HOST}/v1/responses`);
      assert.ok(upgrades.length > 0 && upgrades.every((x) => x.status === 426), describeExchanges(exchanges, []));
      assertTap(exchanges, 'http', 1);
    } finally {
      fake.options.webSocket = 'accept';
    }
  });

  test('HTTP + SSE (custom provider): a text turn prints the fake answer', { skip: gate.skip }, async () => {
    const { stdout, sessionId, calls, exchanges } = await runCodex('say hi', HTTP_PROVIDER_CONFIG);
    assert.ok(stdout.includes(OPENAI_TEXT_ANSWER), stdout);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].transport, 'http');
    assert.equal(calls[0].headers.accept, 'text/event-stream');
    assertHeaders(calls[0], PROVIDER_KEY, sessionId);
    assertTap(exchanges, 'http', 1);
  });

  test('HTTP + SSE (custom provider): a function-call tool turn runs a real command', { skip: gate.skip }, async () => {
    const { stdout, sessionId, calls, exchanges } = await runCodex('please TOOL run echo', HTTP_PROVIDER_CONFIG);
    assert.match(stdout, /FAKE-FINAL: the tool returned:/);
    assert.equal(calls.length, 2, 'the prompt, then the whole history with the tool output');
    assert.ok(calls.every((c) => c.transport === 'http'));
    const items = inputItems(calls[1]);
    const call = items.find((i) => i.type === 'function_call');
    const output = items.find((i) => i.type === 'function_call_output');
    assert.equal(call?.name, 'exec_command');
    assert.equal(output?.call_id, call?.call_id);
    assert.match(String(output?.output), new RegExp(`Output:\\n${TOOL_MARKER}\\n`), 'the output of the real `echo` reached the fake');
    for (const c of calls) assertHeaders(c, PROVIDER_KEY, sessionId);
    assertTap(exchanges, 'http', 2);
  });
});

function inputItems(call: ResponsesCall): Record<string, unknown>[] {
  return Array.isArray(call.body.input) ? call.body.input.filter(isRecord) : [];
}
