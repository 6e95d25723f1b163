// The OpenTelemetry export of real agents' sessions: the real Claude Code, asked to use a subagent
// that runs a tool, and the real Codex, a tool turn over its chained Responses WebSocket, go
// through the capture service; the engine's live export (a SessionFollower and LiveOtlpExport, as
// the engine runs them) sends the spans to a fake collector that decodes the protobuf with the
// official definitions. The spans must match `llm-capture show --json`: parents, names, usage, timing.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startLiveOtlpExport } from '../../src/app/otlp-export';
import type { CallInsight, SessionDetail, Thread } from '../../src/conversation/types';
import { SessionFollower } from '../../src/engine/session-follower';
import { resolveOtlpConfig } from '../../src/telemetry/otlp-config';
import { runCli } from '../cli/cli-process';
import { startFakeAnthropic, SUBAGENT_PROMPT, type FakeApiServer } from '../support/fake-anthropic';
import { startFakeOpenAi, type FakeOpenAi } from '../support/fake-openai';
import { startFakeCollector, type FakeCollector, type FlatSpan } from '../support/fake-otlp-collector';
import { createTestPki, type TestPki } from '../support/test-pki';
import { AGENT_TIMEOUT_MS, agentEnv, agentGate, describeRun, makeScratch, runAgent, startCaptureService, type CaptureRun } from './harness';

const ANTHROPIC = 'api.anthropic.com';
const OPENAI = 'api.openai.com';
const CHATGPT = 'chatgpt.com';
const ANTHROPIC_KEY = 'sk-ant-api03-llm-capture-otlp-agent-key-0123456789';
const CODEX_KEY = 'sk-llm-capture-otlp-codex-key';
const gates = { claude: agentGate('claude'), codex: agentGate('codex') };
const ms = (ns: bigint) => Number(ns / 1_000_000n);

describe('OTLP export of real agents', { timeout: 6 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let anthropic: FakeApiServer;
  let openai: FakeOpenAi;

  before(async () => {
    if (gates.claude.problem && gates.codex.problem) return;
    pki = createTestPki();
    anthropic = await startFakeAnthropic(pki.serverCert([ANTHROPIC]));
    openai = await startFakeOpenAi(pki.serverCert([OPENAI, CHATGPT]));
  });

  after(async () => {
    await anthropic?.close();
    await openai?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** Capture with the live export on (agent spans after 1 s of quiet); `run` drives the agent; resolves with the spans and `show --json`. */
  async function exported(mapped: Record<string, number>, agent: string, run: (capture: CaptureRun, env: (extra: Record<string, string>) => Record<string, string>, cwd: string) => Promise<string>): Promise<{ spans: FlatSpan[]; detail: SessionDetail; collector: FakeCollector }> {
    const collector = await startFakeCollector();
    const capture = await startCaptureService(pki.caCertPath, mapped);
    const scratch = makeScratch(agent);
    const follower = new SessionFollower(() => undefined, () => undefined);
    try {
      follower.use(capture.service.store, { dataDir: capture.dataDir, keep: false, persist: true });
      const config = resolveOtlpConfig({ endpoint: collector.url, agentIdleMs: 1000 });
      const exporter = await startLiveOtlpExport(follower, config, capture.dataDir, () => undefined);
      const sessionId = await run(capture, (extra) => agentEnv(scratch, capture.service.proxy.environment(), extra), scratch.work);
      await collector.waitFor(() => {
        const mine = collector.spans().filter((s) => s.attributes['gen_ai.conversation.id'] === sessionId);
        const threads = new Set(mine.filter((s) => s.attributes['gen_ai.operation.name'] !== 'invoke_agent').map((s) => s.parentSpanId));
        return mine.length > 0 && [...threads].every((p) => mine.some((s) => s.spanId === p && s.attributes['gen_ai.operation.name'] === 'invoke_agent'));
      }, 60_000);
      await exporter!.stop();
      follower.detach();
      await follower.settle();
      await capture.stop();
      const shown = await runCli(['show', sessionId, '--json', '--data-dir', capture.dataDir]);
      assert.equal(shown.code, 0, shown.stderr);
      return { spans: collector.spans().filter((s) => s.attributes['gen_ai.conversation.id'] === sessionId), detail: JSON.parse(shown.stdout) as SessionDetail, collector };
    } finally {
      scratch.cleanup();
      await capture.close();
      await collector.close();
    }
  }

  test('Claude Code with a subagent that runs a tool', { skip: gates.claude.skip }, async () => {
    const { spans, detail, collector } = await exported({ [ANTHROPIC]: anthropic.port }, 'claude', async (capture, env, cwd) => {
      const run = await runAgent(gates.claude.binary(), ['-p', 'use a SUBAGENT for this', '--output-format', 'json', '--allowedTools', 'Bash,Agent,Task'],
        { env: env({ ANTHROPIC_API_KEY: ANTHROPIC_KEY, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }), cwd });
      await capture.settled();
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stdout, /FAKE-FINAL/);
      return (JSON.parse(run.stdout.trim().split('\n').pop()!) as { session_id: string }).session_id;
    });
    const main = detail.threads.find((t) => t.kind === 'main')!;
    const sub = detail.threads.find((t) => t.kind === 'subagent');
    assert.ok(sub, `a subagent thread: ${detail.threads.map((t) => t.kind).join(', ')}`);
    assert.ok(sub.turns.some((t) => t.prompt === SUBAGENT_PROMPT));
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace per session');
    const agents = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent');
    const mainAgent = agents.find((s) => s.attributes['gen_ai.agent.id'] === main.id)!;
    const subAgent = agents.find((s) => s.attributes['gen_ai.agent.id'] === sub.id)!;
    assert.ok(mainAgent && subAgent, agents.map((a) => a.name).join(', '));
    assert.equal(mainAgent.parentSpanId, undefined);
    // The subagent's agent span sits under the tool call that started it.
    const spawn = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === sub.parentToolCallId)!;
    assert.ok(spawn, 'the spawning tool call has a span');
    assert.equal(subAgent.parentSpanId, spawn.spanId);
    assert.equal(spawn.parentSpanId, mainAgent.spanId);
    assert.match(spawn.name, /^execute_tool (Agent|Task)$/);
    // The subagent's tool call, with the real echo's output carried by its next call.
    const bash = spans.find((s) => s.name === 'execute_tool Bash')!;
    assert.equal(bash.parentSpanId, subAgent.spanId);
    checkCalls(spans, main, mainAgent);
    checkCalls(spans, sub, subAgent);
    assert.ok(ms(spawn.startTimeUnixNano) <= ms(subAgent.startTimeUnixNano) && ms(subAgent.endTimeUnixNano) <= ms(spawn.endTimeUnixNano), 'the subagent ran inside its tool call');
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'no span twice');
    assert.ok(!JSON.stringify(collector.received.map((r) => r.body)).includes(ANTHROPIC_KEY));
  });

  test('Codex: a tool turn over its chained Responses WebSocket', { skip: gates.codex.skip }, async () => {
    const { spans, detail } = await exported({ [OPENAI]: openai.port, [CHATGPT]: openai.port }, 'codex', async (capture, env, cwd) => {
      const run = await runAgent(gates.codex.binary(), ['exec', '--skip-git-repo-check', 'please TOOL run echo'], { env: env({ CODEX_API_KEY: CODEX_KEY }), cwd });
      await capture.settled();
      assert.equal(run.code, 0, describeRun(run));
      const id = /^session id: (\S+)$/m.exec(run.stderr)?.[1];
      assert.ok(id, describeRun(run, 'Codex printed no session id'));
      return id;
    });
    const main = detail.threads.find((t) => t.kind === 'main')!;
    const agent = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent' && s.attributes['gen_ai.agent.id'] === main.id)!;
    assert.ok(agent);
    assert.equal(agent.name, 'invoke_agent codex');
    assert.equal(agent.attributes['gen_ai.provider.name'], 'openai');
    checkCalls(spans, main, agent);
    // Each call of the chain names its response; the tool ran between the call that asked and the one that answered.
    for (const call of main.calls) assert.equal(spanOf(spans, call).attributes['gen_ai.response.id'], call.outcome.responseId);
    const tool = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool')!;
    assert.equal(tool.parentSpanId, agent.spanId);
    assert.equal(ms(tool.startTimeUnixNano), main.calls[0]!.outcome.endedAt);
    assert.equal(ms(tool.endTimeUnixNano), main.calls[1]!.startedAt);
    // The prewarm is a side call: a chat span of its own under the agent.
    const side = detail.threads.find((t) => t.kind === 'side');
    if (side) assert.ok(spans.some((s) => s.attributes['llm_capture.side'] === side.sideKind && s.parentSpanId === agent.spanId));
  });
});

function spanOf(spans: FlatSpan[], call: CallInsight): FlatSpan {
  const span = spans.find((s) => s.attributes['llm_capture.call.id'] === call.callId);
  assert.ok(span, `a span for call ${call.callId}`);
  return span;
}

/** Every call of the thread has its chat span under the agent span, with show --json's times and tokens. */
function checkCalls(spans: FlatSpan[], thread: Thread, agent: FlatSpan): void {
  assert.ok(thread.calls.length > 0);
  for (const call of thread.calls) {
    const span = spanOf(spans, call);
    assert.equal(span.parentSpanId, agent.spanId);
    assert.equal(span.name, `chat ${call.model}`);
    assert.equal(ms(span.startTimeUnixNano), call.startedAt);
    assert.equal(ms(span.endTimeUnixNano), call.outcome.endedAt);
    assert.equal(span.attributes['gen_ai.request.model'], call.model);
    assert.equal(span.attributes['gen_ai.usage.input_tokens'], call.usage.inputTokens + call.usage.cacheReadTokens + call.usage.cacheWriteTokens);
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], call.usage.outputTokens);
    assert.equal(span.attributes['gen_ai.usage.cache_read.input_tokens'], call.usage.cacheReadTokens);
    if (call.outcome.timeToFirstChunkMs !== undefined) assert.equal(span.attributes['gen_ai.response.time_to_first_chunk'], call.outcome.timeToFirstChunkMs / 1000);
    if (call.outcome.stopReason) assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], [call.outcome.stopReason]);
  }
  assert.equal(ms(agent.startTimeUnixNano), Math.min(...thread.calls.map((c) => c.startedAt)));
}
