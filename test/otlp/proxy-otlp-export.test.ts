// `llm-capture proxy --otlp-endpoint URL`, as a user runs it: Claude Code-shaped traffic goes through
// the real proxy to a fake Messages API, and the spans reach a fake collector that decodes them
// with the official OTLP protobuf definitions. The spans must say what `show --json` says (parents,
// usage, timing), arrive once each across a collector outage and a restart of the proxy, carry no
// secret with or without content, and `export --otlp` must give the same spans after the fact.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SessionDetail } from '../../src/conversation/types';
import { startFakeAnthropic, TOOL_MARKER, type FakeApiServer } from '../support/fake-anthropic';
import { startFakeCollector, type FakeCollector, type FlatSpan } from '../support/fake-otlp-collector';
import { fetchVia, TunnelAgent } from '../support/proxied-request';
import { createTestPki, type TestPki } from '../support/test-pki';
import { runCli, startCliProxy, type RunningCliProxy } from '../cli/cli-process';

const KEY = 'sk-ant-api03-otlp-test-secret-key-0123456789abcdef';
const HOST = 'api.anthropic.com';

interface World {
  pki: TestPki;
  anthropic: FakeApiServer;
  dirs: string[];
}

async function startProxy(world: World, collector: FakeCollector, dataDir: string, more: string[] = []): Promise<{ proxy: RunningCliProxy; agent: TunnelAgent }> {
  const proxy = await startCliProxy(['--data-dir', dataDir, '--only-mapped', '--upstream-ca', world.pki.caCertPath, '--intercept', HOST,
    '--map', `${HOST}:443=127.0.0.1:${world.anthropic.port}`, '--otlp-endpoint', collector.url, '--otlp-agent-idle', '1', ...more]);
  const agent = new TunnelAgent({ proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: false });
  return { proxy, agent };
}

/** One Claude Code-shaped streamed call; `history` is the conversation so far. */
async function call(agent: TunnelAgent, session: string, messages: unknown[]): Promise<unknown[]> {
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5-20250929', max_tokens: 1024, temperature: 1, stream: true, system: [{ type: 'text', text: 'You are a test agent.' }], messages,
    tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  });
  const res = await fetchVia(agent, HOST, 443, {
    method: 'POST', path: '/v1/messages?beta=true', body: [body],
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': KEY, 'x-claude-code-session-id': session, 'user-agent': 'claude-cli/2.1.197 (external, cli)' },
  });
  assert.equal(res.statusCode, 200);
  // The answer's blocks, rebuilt from the SSE stream, to send back as history.
  const blocks: Array<Record<string, unknown>> = [];
  for (const line of res.body.toString('utf8').split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6)) as { type: string; index?: number; content_block?: Record<string, unknown>; delta?: Record<string, string> };
    if (event.type === 'content_block_start' && event.content_block) blocks[event.index!] = { ...event.content_block };
    if (event.type === 'content_block_delta' && event.delta) {
      const block = blocks[event.index!]!;
      if (event.delta.type === 'text_delta') block.text = `${block.text ?? ''}${event.delta.text}`;
      if (event.delta.type === 'thinking_delta') block.thinking = `${block.thinking ?? ''}${event.delta.thinking}`;
      if (event.delta.type === 'signature_delta') block.signature = event.delta.signature;
      if (event.delta.type === 'input_json_delta') block.partial = `${block.partial ?? ''}${event.delta.partial_json}`;
    }
  }
  return blocks.map(({ partial, ...b }) => (partial !== undefined ? { ...b, input: JSON.parse(partial as string) } : b));
}

/** A tool turn: the prompt asks for the tool, the second call carries its result. */
async function toolTurn(agent: TunnelAgent, session: string, prompt: string): Promise<void> {
  const user = { role: 'user', content: [{ type: 'text', text: prompt }] };
  const first = await call(agent, session, [user]);
  const use = first.find((b) => (b as { type: string }).type === 'tool_use') as { id: string };
  assert.ok(use, 'the fake asked for the tool');
  await call(agent, session, [user, { role: 'assistant', content: first }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_MARKER }] }]);
}

async function showJson(dataDir: string, session: string): Promise<SessionDetail> {
  const shown = await runCli(['show', session, '--json', '--data-dir', dataDir]);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout) as SessionDetail;
}

const ofSession = (spans: FlatSpan[], session: string) => spans.filter((s) => s.attributes['gen_ai.conversation.id'] === session);
const named = (spans: FlatSpan[], op: string) => spans.filter((s) => s.attributes['gen_ai.operation.name'] === op);
const ms = (ns: bigint) => Number(ns / 1_000_000n);

describe('llm-capture proxy --otlp-endpoint', { timeout: 180_000 }, () => {
  const world = {} as World;

  before(async () => {
    world.pki = createTestPki();
    world.anthropic = await startFakeAnthropic(world.pki.serverCert([HOST]));
    world.dirs = [world.pki.dir];
  });

  after(async () => {
    await world.anthropic?.close();
    for (const dir of world.dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('sends a tool turn as GenAI spans that agree with show --json', async () => {
    const collector = await startFakeCollector();
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-otlp-'));
    world.dirs.push(dataDir);
    const session = '0a1b2c3d-0000-4000-8000-000000000001';
    const { proxy, agent } = await startProxy(world, collector, dataDir, ['--quiet']);
    try {
      await toolTurn(agent, session, `please TOOL run echo ${TOOL_MARKER}`);
      await collector.waitFor(() => named(ofSession(collector.spans(), session), 'invoke_agent').length === 1, 30_000);
    } finally {
      assert.equal(await proxy.stop(), 0, proxy.stderr());
      await collector.close();
    }
    const spans = ofSession(collector.spans(), session);
    const detail = await showJson(dataDir, session);
    const main = detail.threads.find((t) => t.kind === 'main')!;
    const [agentSpan] = named(spans, 'invoke_agent');
    const chats = named(spans, 'chat').sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    const [tool] = named(spans, 'execute_tool');
    assert.equal(spans.length, 4, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace per session');
    assert.equal(agentSpan!.parentSpanId, undefined);
    for (const child of [...chats, tool!]) assert.equal(child.parentSpanId, agentSpan!.spanId);
    assert.equal(agentSpan!.name, 'invoke_agent claude-code');
    assert.equal(tool!.name, 'execute_tool Bash');
    assert.equal(tool!.attributes['gen_ai.tool.call.id'], main.turns[0]!.steps.find((s) => s.type === 'tool_call')!.callId);
    // The tool ran from the end of the call that asked for it to the start of the call carrying its result.
    const timeline = JSON.stringify({
      spans: spans.map((s) => [s.name, ms(s.startTimeUnixNano), ms(s.endTimeUnixNano)]),
      calls: main.calls.map((c) => [c.callId, c.startedAt, c.outcome.endedAt]),
      steps: main.turns.flatMap((t) => t.steps.map((s) => [s.type, s.callId, s.llmCallId])),
    });
    assert.equal(main.turns[0]!.steps.find((s) => s.type === 'tool_call')!.llmCallId, main.calls[0]!.callId, `the first call asked for the tool: ${timeline}`);
    assert.equal(ms(tool!.startTimeUnixNano), main.calls[0]!.outcome.endedAt, timeline);
    assert.equal(ms(tool!.endTimeUnixNano), main.calls[1]!.startedAt, timeline);
    assert.equal(chats.length, main.calls.length);
    chats.forEach((span, i) => {
      const c = main.calls[i]!;
      assert.equal(span.name, `chat ${c.model}`);
      assert.equal(span.kind, 3, 'SPAN_KIND_CLIENT');
      assert.equal(ms(span.startTimeUnixNano), c.startedAt);
      assert.equal(ms(span.endTimeUnixNano), c.outcome.endedAt);
      assert.equal(span.attributes['gen_ai.provider.name'], 'anthropic');
      assert.equal(span.attributes['gen_ai.request.model'], c.model);
      assert.ok(c.outcome.responseModel, 'the answer names its model');
      assert.equal(span.attributes['gen_ai.response.model'], c.outcome.responseModel);
      assert.equal(span.attributes['gen_ai.request.max_tokens'], 1024);
      assert.equal(span.attributes['gen_ai.request.temperature'], 1);
      assert.equal(span.attributes['gen_ai.request.stream'], true);
      assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], [c.outcome.stopReason]);
      assert.equal(span.attributes['gen_ai.response.time_to_first_chunk'], c.outcome.timeToFirstChunkMs! / 1000);
      assert.equal(span.attributes['gen_ai.usage.input_tokens'], c.usage.inputTokens + c.usage.cacheReadTokens + c.usage.cacheWriteTokens);
      assert.equal(span.attributes['gen_ai.usage.output_tokens'], c.usage.outputTokens);
      assert.equal(span.attributes['gen_ai.usage.cache_read.input_tokens'], c.usage.cacheReadTokens);
      assert.equal(span.attributes['gen_ai.usage.cache_creation.input_tokens'], c.usage.cacheWriteTokens);
      assert.equal(span.attributes['gen_ai.input.messages'], undefined, 'no content unless asked for');
    });
    assert.equal(agentSpan!.attributes['gen_ai.usage.output_tokens'], main.usage.outputTokens);
    assert.equal(ms(agentSpan!.startTimeUnixNano), main.calls[0]!.startedAt);
    assert.equal(ms(agentSpan!.endTimeUnixNano), main.calls[1]!.outcome.endedAt);
    assert.equal(agentSpan!.resource['service.name'], 'claude-code');
    assert.ok(agentSpan!.resource['host.name'] && agentSpan!.resource['user.name']);
    // The metrics (cumulative: the last export holds every call) count the same tokens as the spans.
    const last = (name: string) => collector.metrics().filter((m) => m.name === name).at(-1);
    const tokens = last('gen_ai.client.token.usage');
    assert.ok(tokens && last('gen_ai.client.operation.duration') && last('gen_ai.client.operation.time_to_first_chunk'), collector.metrics().map((m) => m.name).join(', '));
    const sumOf = (type: string) => tokens.dataPoints.filter((p) => p.attributes['gen_ai.token.type'] === type).reduce((n, p) => n + (p.sum ?? 0), 0);
    const spanSum = (key: string) => chats.reduce((n, s) => n + (s.attributes[key] as number), 0);
    assert.equal(sumOf('input'), spanSum('gen_ai.usage.input_tokens'));
    assert.equal(sumOf('output'), spanSum('gen_ai.usage.output_tokens'));
    assert.equal(last('gen_ai.client.operation.duration')!.dataPoints.reduce((n, p) => n + (p.count ?? 0), 0), chats.length);
    assert.ok(!JSON.stringify(collector.received.map((r) => r.body)).includes(KEY));

    // After the fact, as JSON, the same spans: the same ids, parents and attributes.
    const later = await startFakeCollector();
    try {
      const sent = await runCli(['export', '--otlp-endpoint', later.url, '--otlp-protocol', 'http/json', '--otlp-agent-idle', '1', '--data-dir', dataDir]);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /^sent 4 spans of 1 session\(s\) to /);
      assert.equal(later.received[0]!.contentType, 'json');
      const key = (s: FlatSpan) => JSON.stringify([s.spanId, s.parentSpanId, s.name, s.startTimeUnixNano.toString(), s.endTimeUnixNano.toString(), s.attributes]);
      assert.deepEqual(later.spans().map(key).sort(), spans.map(key).sort());
    } finally {
      await later.close();
    }
  });

  it('keeps spans through a collector outage and a restart: nothing lost, nothing sent twice', async () => {
    const collector = await startFakeCollector();
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-otlp-down-'));
    world.dirs.push(dataDir);
    const sessions = ['0a1b2c3d-0000-4000-8000-00000000000a', '0a1b2c3d-0000-4000-8000-00000000000b', '0a1b2c3d-0000-4000-8000-00000000000c'];
    collector.setDown('refuse');
    let { proxy, agent } = await startProxy(world, collector, dataDir, ['--otlp-content']);
    try {
      // While the collector is down, the agent's traffic flows as ever.
      await toolTurn(agent, sessions[0]!, `TOOL first, key ${KEY}`);
      await toolTurn(agent, sessions[1]!, 'TOOL second');
      await waitUntil(() => /OTLP export to .* failed: .*Nothing is lost/.test(proxy.stderr()), 30_000, () => proxy.stderr());
      assert.equal(collector.received.length, 0);
      collector.setDown(false);
      await collector.waitFor(() => named(collector.spans(), 'invoke_agent').length === 2, 90_000);
      await waitUntil(() => /works again: sent \d+ spans held since/.test(proxy.stderr()), 10_000, () => proxy.stderr());
      assert.equal(await proxy.stop(), 0, proxy.stderr());
      // Restarted on the same data directory: it resumes after what was sent.
      ({ proxy, agent } = await startProxy(world, collector, dataDir, ['--otlp-content']));
      await toolTurn(agent, sessions[2]!, 'TOOL third');
      await collector.waitFor(() => named(collector.spans(), 'invoke_agent').length === 3, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      await proxy.stop();
      await collector.close();
    }
    const spans = collector.spans();
    const ids = spans.map((s) => s.spanId);
    assert.equal(new Set(ids).size, ids.length, 'no span was sent twice');
    for (const session of sessions) {
      const mine = ofSession(spans, session);
      assert.deepEqual(mine.map((s) => s.attributes['gen_ai.operation.name']).sort(), ['chat', 'chat', 'execute_tool', 'invoke_agent'], session);
    }
    // With content: the prompts and answers are there, the key the prompt repeated is not.
    const payload = JSON.stringify(collector.received.map((r) => r.body));
    assert.ok(payload.includes('TOOL first'), 'content was sent');
    assert.ok(payload.includes(TOOL_MARKER), 'the tool result was sent');
    assert.ok(!payload.includes(KEY), 'the API key is redacted from the content');
    assert.ok(!collector.received.some((r) => r.raw.includes(Buffer.from(KEY))));
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number, show: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out; output:\n${show()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
