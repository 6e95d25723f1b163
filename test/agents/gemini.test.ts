// The real Gemini CLI (pinned in test/agents/package.json) runs `gemini -p` through a capture
// service (the real proxy, recorder and store), which maps generativelanguage.googleapis.com to a
// local fake and refuses every other upstream. Three processes make one conversation: a text
// turn, a tool turn that really runs `echo` (`--resume`), and another prompt (`--resume`). The
// wire carries no session id, each resumed process sends another system prompt, and the CLI
// re-sends the model's tool call in its own form (its own id, no thought part, another
// signature, the result twice after a resume): the store must still give ONE session, with the
// tool call once, paired with its real output, and the user agent recognised as Gemini CLI.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assembleSessions } from '../../src/app/session-index';
import type { SessionDetail, Step, UsageTotals } from '../../src/conversation';
import { CaptureStore } from '../../src/store';
import { isRecord, TOOL_COMMAND, TOOL_MARKER } from '../support/fake-anthropic';
import { GEMINI_TEXT_ANSWER, GEMINI_USAGE, startFakeGemini, type FakeGemini, type GeminiCall } from '../support/fake-gemini';
import { createTestPki, type TestPki } from '../support/test-pki';
import { AGENT_TIMEOUT_MS, agentEnv, agentGate, describeExchanges, describeRun, makeScratch, runAgent, startCaptureService, type CaptureRun, type Scratch } from './harness';

const HOST = 'generativelanguage.googleapis.com';
const FAKE_KEY = 'fake-gemini-key-llm-capture-0123456789';
const TOOL_PROMPT = 'please TOOL run echo';
const gate = agentGate('gemini');

/**
 * User settings that turn off what would leave the machine: usage statistics (Clearcut, at
 * play.googleapis.com) and telemetry; update checks only run in the interactive UI, but are off too.
 */
const SETTINGS = {
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
};

describe('real Gemini CLI through the capture service', { timeout: 4 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let fake: FakeGemini;

  before(async () => {
    // A missing CLI or network isolation skips the test, or fails it under LLM_CAPTURE_REQUIRE_AGENTS=1.
    if (gate.problem) return;
    pki = createTestPki();
    fake = await startFakeGemini(pki.serverCert([HOST]));
  });

  after(async () => {
    await fake?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** One `gemini -p` run; it must succeed and print its JSON result. */
  async function runGemini(capture: CaptureRun, scratch: Scratch, args: string[]): Promise<Record<string, unknown>> {
    const env = agentEnv(scratch, capture.service.proxy.environment(), { GEMINI_API_KEY: FAKE_KEY, GEMINI_CLI_TRUST_WORKSPACE: 'true' });
    const seen = capture.exchanges.length;
    const failedSeen = capture.failedConnections.length;
    const run = await runAgent(gate.binary(), [...args, '--output-format', 'json'], { env, cwd: scratch.work });
    await capture.settled();
    const why = describeRun(run, `what the proxy saw:\n${describeExchanges(capture.exchanges.slice(seen), capture.failedConnections.slice(failedSeen))}`);
    assert.equal(run.code, 0, why);
    let result: unknown;
    assert.doesNotThrow(() => (result = JSON.parse(run.stdout)), why);
    assert.ok(isRecord(result), why);
    return result;
  }

  test('a text turn, a tool turn and another prompt (both --resume) make one session in the store', { skip: gate.skip }, async () => {
    const capture = await startCaptureService(pki.caCertPath, { [HOST]: fake.port });
    const scratch = makeScratch('gemini');
    const callsBefore = fake.calls.length;
    try {
      mkdirSync(join(scratch.home, '.gemini'), { recursive: true });
      writeFileSync(join(scratch.home, '.gemini', 'settings.json'), JSON.stringify(SETTINGS));
      const sessionId = randomUUID();
      const hi = await runGemini(capture, scratch, ['-p', 'say hi', '--session-id', sessionId]);
      const tool = await runGemini(capture, scratch, ['-p', TOOL_PROMPT, '--resume', sessionId, '--approval-mode', 'yolo']);
      const bye = await runGemini(capture, scratch, ['-p', 'say bye', '--resume', sessionId]);
      assert.deepEqual([hi.session_id, tool.session_id, bye.session_id], [sessionId, sessionId, sessionId], '--resume continued the session');
      assert.equal(hi.response, GEMINI_TEXT_ANSWER);
      assert.match(String(tool.response), new RegExp(`^FAKE-FINAL: the tool returned: [^]*\\b${TOOL_MARKER}\\b`));
      assert.equal(bye.response, GEMINI_TEXT_ANSWER);

      // Nothing but the model calls: no telemetry or update check tried to leave, nothing failed.
      assert.deepEqual(capture.failedConnections, [], 'no connection to an unmapped host was tried');
      const bad = capture.exchanges.filter((x) => new URL(x.url).hostname !== HOST || x.outcome !== 'complete' || x.status !== 200);
      assert.deepEqual(describeExchanges(bad, []), '(nothing)', describeExchanges(capture.exchanges, []));
      assert.deepEqual(capture.problems, [], 'the capture service logged no warning or error');
      await capture.stop();

      const calls = fake.calls.slice(callsBefore);
      for (const c of calls) {
        assert.match(String(c.headers['user-agent']), /^GeminiCLI-tui\/0\.61\.0\//, 'the 0.61 user agent');
        assert.equal(c.headers['x-goog-api-key'], FAKE_KEY, 'the fake key reached the fake unchanged');
        assert.equal(c.headers.host, HOST, 'the original Host header is kept');
      }
      // Each prompt is scored on flash-lite (a JSON side call) before the main, streamed call.
      const main = calls.filter((c) => c.method === 'streamGenerateContent');
      assert.equal(main.length, 4, 'say hi; the prompt and the tool output; say bye');
      assert.equal(calls.filter((c) => c.method === 'generateContent').length, 3);
      const sent = wireFacts(main);

      const detail = await onlySession(capture.dataDir);
      assert.equal(detail.client, 'gemini-cli', 'the user agent is recognised');
      assert.equal(detail.provider, 'google');
      assert.equal(detail.summary.idSource, 'heuristic', 'Gemini CLI sends no session id');
      assert.equal(detail.summary.callCount, calls.length);
      assert.deepEqual(detail.summary.usage, geminiUsage(calls.length));
      const thread = detail.threads.filter((t) => t.kind !== 'side');
      assert.deepEqual(thread.map((t) => t.kind), ['main'], 'one main thread');
      assert.deepEqual(thread[0]!.turns.map((t) => t.prompt), ['say hi', TOOL_PROMPT, 'say bye'], 'the resumed turns are in the same thread');
      const [hiTurn, toolTurn, byeTurn] = thread[0]!.turns;
      const steps = thread[0]!.turns.flatMap((t) => t.steps);
      assert.deepEqual(steps.filter((s) => s.alternative).map((s) => s.type), [], 'no answer is shown as an alternative');

      // Exactly one tool call in the conversation, under the CLI's id, paired with the real output.
      const toolCalls = steps.filter((s) => s.type === 'tool_call');
      assert.deepEqual(toolCalls.map((s) => [s.name, s.callId]), [['run_shell_command', sent.callId]], 'one tool call');
      assert.deepEqual(JSON.parse(toolCalls[0]!.arguments ?? ''), { command: TOOL_COMMAND, description: 'Print a marker' });
      const results = steps.filter((s) => s.type === 'tool_result');
      assert.deepEqual(results.map((s) => [s.name, s.callId]), [['run_shell_command', sent.callId]], 'one tool result, paired');
      assert.deepEqual(JSON.parse(results[0]!.output ?? ''), sent.response, 'the output of the real `echo`, as the CLI sent it');
      assert.equal(toolCalls[0]!.output, results[0]!.output);
      assert.equal(finalAnswer(hiTurn!.steps), GEMINI_TEXT_ANSWER);
      assert.equal(finalAnswer(toolTurn!.steps), `FAKE-FINAL: the tool returned: ${String(sent.response.output)}`);
      assert.equal(finalAnswer(byeTurn!.steps), GEMINI_TEXT_ANSWER);
      assert.ok(detail.threads.some((t) => t.kind === 'side' && t.sideKind === 'complexity-scorer'), 'the scorer calls are side calls');
    } finally {
      scratch.cleanup();
      await capture.close();
    }
  });
});

interface WireFacts {
  /** The id the CLI gave the tool call (the fake sent none). */
  callId: string;
  /** The functionResponse.response the CLI sent back. */
  response: Record<string, unknown>;
}

/**
 * What the real CLI did on the wire that the assembler must see through (the reasons for this
 * test): the fake sent a thought, then a functionCall without an id but with a signature; the CLI
 * re-sent that call with an id of its own and without the thought, and a resumed process sent
 * another system prompt, the call re-signed with its own placeholder and the result twice.
 */
function wireFacts(main: GeminiCall[]): WireFacts {
  const [hi, prompt, output, bye] = main as [GeminiCall, GeminiCall, GeminiCall, GeminiCall];
  const answered = prompt.chunks.flatMap((c) => modelParts(c));
  assert.ok(answered.some((p) => p.thought === true), 'the fake sent a thought part');
  const sentCall = answered.find((p) => isRecord(p.functionCall));
  assert.ok(sentCall && isRecord(sentCall.functionCall) && sentCall.functionCall.id === undefined && typeof sentCall.thoughtSignature === 'string');
  const resent = contentsOf(output);
  const call = resent.flatMap((c) => partsOf(c)).find((p) => isRecord(p.functionCall));
  assert.ok(call && isRecord(call.functionCall) && typeof call.functionCall.id === 'string', 'the CLI gave the call its own id');
  assert.ok(!resent.flatMap((c) => partsOf(c)).some((p) => p.thought === true), 'the CLI dropped the thought part');
  const response = resent.flatMap((c) => partsOf(c)).find((p) => isRecord(p.functionResponse))?.functionResponse;
  assert.ok(isRecord(response) && response.id === call.functionCall.id && isRecord(response.response));
  assert.ok(String(response.response.output).includes(TOOL_MARKER), 'the output of the real `echo` reached the fake');
  assert.notDeepEqual(prompt.body.systemInstruction, hi.body.systemInstruction, 'the resumed process sent another system prompt');
  const later = contentsOf(bye).flatMap((c) => partsOf(c));
  assert.equal(later.filter((p) => isRecord(p.functionResponse)).length, 2, 'after --resume the CLI sends the result twice');
  assert.equal(later.find((p) => isRecord(p.functionCall))?.thoughtSignature, 'skip_thought_signature_validator', 'and re-signs the call');
  return { callId: call.functionCall.id, response: response.response };
}

function contentsOf(call: GeminiCall): Record<string, unknown>[] {
  return Array.isArray(call.body.contents) ? call.body.contents.filter(isRecord) : [];
}

function partsOf(content: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
}

function modelParts(chunk: Record<string, unknown>): Record<string, unknown>[] {
  const candidate = Array.isArray(chunk.candidates) ? chunk.candidates.find(isRecord) : undefined;
  return candidate && isRecord(candidate.content) ? partsOf(candidate.content) : [];
}

/** The one session with a conversation in the store, assembled as the CLI and the extension do. */
async function onlySession(dataDir: string): Promise<SessionDetail> {
  const store = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    const assembler = assembleSessions(store);
    const sessions = assembler.sessions().filter((s) => s.turnCount > 0);
    assert.equal(sessions.length, 1, `one session:\n${JSON.stringify(assembler.sessions(), null, 2)}`);
    const detail = assembler.session(sessions[0]!.id);
    assert.ok(detail);
    return detail;
  } finally {
    await store.close();
  }
}

function finalAnswer(steps: Step[]): string | undefined {
  return steps.filter((s) => s.type === 'text' && s.role === 'assistant').pop()?.text;
}

/** Gemini counts thoughts apart from the answer; the contract counts them as output. */
function geminiUsage(calls: number): UsageTotals {
  return {
    inputTokens: calls * GEMINI_USAGE.promptTokenCount,
    outputTokens: calls * (GEMINI_USAGE.candidatesTokenCount + GEMINI_USAGE.thoughtsTokenCount),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: calls * GEMINI_USAGE.thoughtsTokenCount,
  };
}
