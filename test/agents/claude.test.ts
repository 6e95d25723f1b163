// The real Claude Code CLI (pinned in test/agents/package.json) runs `claude -p` through the
// proxy, which maps api.anthropic.com to a local fake and refuses every other upstream.
// It shows that a real client trusts our CA, that its streamed answers (thinking with a
// signature, text, tool_use in JSON fragments) survive the proxy intact, and that a real tool
// run's output comes back through it on the next request.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ANTHROPIC_TEXT_ANSWER, isRecord, startFakeAnthropic, TOOL_COMMAND, TOOL_MARKER, type FakeApiServer, type RecordedApiRequest } from '../support/fake-anthropic';
import { createTestPki, type TestPki } from '../support/test-pki';
import { AGENT_TIMEOUT_MS, agentEnv, agentGate, describeExchanges, describeRun, makeScratch, runAgent, startCaptureProxy, type AgentRun, type CaptureProxy, type ExchangeRecord } from './harness';

const HOST = 'api.anthropic.com';
const FAKE_KEY = 'sk-ant-api03-llm-capture-fake-key-0123456789';
const gate = agentGate('claude');

interface ClaudeRun {
  run: AgentRun;
  /** The JSON that `--output-format json` printed. */
  result: Record<string, unknown>;
  /** The model requests the fake saw for this run's session. */
  requests: RecordedApiRequest[];
  sessionId: string;
  /** What the proxy's tap recorded during this run. */
  exchanges: ExchangeRecord[];
}

/** A tool_result's content is a string or an array of text blocks. */
function blockText(content: unknown): string {
  if (Array.isArray(content)) return content.map((b) => (isRecord(b) ? String(b.text ?? '') : '')).join('');
  return String(content ?? '');
}

describe('real Claude Code through the proxy', { timeout: 4 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let fake: FakeApiServer;
  let capture: CaptureProxy;

  before(async () => {
    // A missing CLI or network isolation skips each test, or fails it under LLM_CAPTURE_REQUIRE_AGENTS=1.
    if (gate.problem) return;
    pki = createTestPki();
    fake = await startFakeAnthropic(pki.serverCert([HOST]));
    capture = await startCaptureProxy(pki.caCertPath, { [HOST]: fake.port });
  });

  after(async () => {
    await capture?.close();
    await fake?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** One `claude -p` run with a session id we choose, so its requests can be told apart. */
  async function runClaude(prompt: string, extraArgs: string[] = []): Promise<ClaudeRun> {
    const binary = gate.binary();
    const sessionId = randomUUID();
    const seen = capture.exchanges.length;
    const tunnelsSeen = capture.failedConnections.length;
    const scratch = makeScratch('claude');
    try {
      const env = agentEnv(scratch, capture.proxy.environment(), {
        ANTHROPIC_API_KEY: FAKE_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      });
      const run = await runAgent(binary, ['-p', prompt, '--output-format', 'json', '--session-id', sessionId, ...extraArgs], { env, cwd: scratch.work });
      await capture.settled();
      const why = describeRun(run, `what the proxy saw:\n${describeExchanges(capture.exchanges.slice(seen), capture.failedConnections.slice(tunnelsSeen))}`);
      assert.equal(run.code, 0, why);
      const lastLine = run.stdout.trim().split('\n').pop() ?? '';
      let result: unknown;
      assert.doesNotThrow(() => (result = JSON.parse(lastLine)), why);
      assert.ok(isRecord(result), why);
      const requests = fake.requests.filter((r) => r.url.startsWith('/v1/messages?') && r.headers['x-claude-code-session-id'] === sessionId);
      return { run, result, requests, sessionId, exchanges: capture.exchanges.slice(seen) };
    } finally {
      scratch.cleanup();
    }
  }

  /** What every model request must look like when it came from Claude Code through the proxy. */
  function assertFromClaudeCode(requests: RecordedApiRequest[], sessionId: string): void {
    assert.ok(requests.length > 0, 'the fake saw no /v1/messages request for this session');
    for (const r of requests) {
      assert.equal(r.method, 'POST');
      assert.equal(r.headers['x-api-key'], FAKE_KEY, 'the fake key reached the fake unchanged');
      assert.equal(r.headers['x-claude-code-session-id'], sessionId);
      assert.equal(r.headers.host, HOST, 'the original Host header is kept');
      assert.match(String(r.headers['user-agent']), /^claude-cli\/2\.1\.197 /);
      assert.match(String(r.headers['anthropic-beta']), /claude-code-20250219/);
      assert.ok(isRecord(r.body) && r.body.stream === true, 'Claude Code streams its answers');
    }
  }

  /** The tap saw each model call end complete, and refused nothing on the mapped host. */
  function assertTapSaw(exchanges: ExchangeRecord[], count: number): void {
    const mine = exchanges.filter((x) => new URL(x.url).hostname === HOST);
    const bad = mine.filter((x) => x.outcome === 'refused' || x.outcome === 'upstream-error' || !x.outcome);
    assert.deepEqual(bad, [], 'no exchange with the mapped host was refused, failed or left unfinished');
    const calls = mine.filter((x) => x.method === 'POST' && x.url === `https://${HOST}/v1/messages?beta=true`);
    assert.deepEqual(calls.map((x) => [x.status, x.outcome]), Array(count).fill([200, 'complete']), 'the tap saw every model call end complete');
  }

  test('a text turn prints the fake answer', { skip: gate.skip }, async () => {
    const { result, requests, sessionId, exchanges } = await runClaude('say hi');
    assert.equal(result.result, ANTHROPIC_TEXT_ANSWER);
    assert.equal(result.is_error, false);
    assert.equal(result.session_id, sessionId);
    assertFromClaudeCode(requests, sessionId);
    assert.equal(requests.length, 1);
    assertTapSaw(exchanges, 1);
  });

  test('a tool turn runs Bash for real and sends its output back through the proxy', { skip: gate.skip }, async () => {
    const { result, requests, sessionId, exchanges } = await runClaude('please TOOL run echo', ['--allowedTools', 'Bash']);
    assert.match(String(result.result), /^FAKE-FINAL: the tool returned: fake-tool-ok/);
    assert.equal(result.num_turns, 2);
    assertFromClaudeCode(requests, sessionId);
    assert.equal(requests.length, 2, 'one request for the tool call, one with its result');

    // The second request resends the first answer as Claude Code rebuilt it from the stream.
    const messages = (requests[1].body as { messages: { role: string; content: unknown }[] }).messages;
    const assistant = messages.filter((m) => m.role === 'assistant').pop();
    const blocks = (Array.isArray(assistant?.content) ? assistant.content : []) as Record<string, unknown>[];
    const thinking = blocks.find((b) => b.type === 'thinking');
    const toolUse = blocks.find((b) => b.type === 'tool_use');
    assert.match(String(thinking?.signature), /^fakesig_/, 'the thinking block came back with its streamed signature');
    assert.deepEqual(toolUse?.input, { command: TOOL_COMMAND, description: 'Print a marker' }, 'the input_json_delta fragments were joined');
    const last = messages[messages.length - 1];
    const toolResult = (Array.isArray(last.content) ? last.content : []).find((b: Record<string, unknown>) => b.type === 'tool_result');
    assert.equal(toolResult?.tool_use_id, toolUse?.id);
    assert.equal(blockText(toolResult?.content).trim(), TOOL_MARKER, 'the output of the real `echo` reached the fake');
    assertTapSaw(exchanges, 2);
  });
});
