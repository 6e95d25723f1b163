// The whole product path with real agents: each CLI runs through a CaptureService (the real
// proxy, recorder and store in a fresh data directory) mapped to local fakes; then the
// `llm-capture` CLI, spawned as a user would run it, reads the store and must show one session
// per agent run with the id the agent used, its prompts as turns, the tool call with its real
// output, the answers, and the usage the fake reported. The store itself must give back the
// streams exactly as the fakes sent them (SSE bodies and events, WebSocket messages).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SessionDetail, SessionSummary, Step, Thread, Turn, UsageTotals } from '../../src/conversation';
import { CaptureStore } from '../../src/store';
import { ANTHROPIC_TEXT_ANSWER, ANTHROPIC_USAGE, isRecord, startFakeAnthropic, TOOL_COMMAND, TOOL_MARKER, type FakeApiServer, type RecordedApiRequest } from '../support/fake-anthropic';
import { OPENAI_TEXT_ANSWER, OPENAI_USAGE, outputText, startFakeOpenAi, type FakeOpenAi, type RecordedResponsesSocket, type ResponsesCall } from '../support/fake-openai';
import { createTestPki, type TestPki } from '../support/test-pki';
import { allExchangeSummaries, readAllPages } from '../../src/app/store-reading';
import {
  AGENT_TIMEOUT_MS, agentEnv, agentGate, describeExchanges, describeRun, makeScratch, runAgent, startCaptureService,
  type AgentRun, type CaptureRun, type Scratch,
} from './harness';

const ANTHROPIC = 'api.anthropic.com';
const OPENAI = 'api.openai.com';
// Codex asks chatgpt.com for its model list; the fake's 404 ends that at once (see codex.test.ts).
const CHATGPT = 'chatgpt.com';
const ANTHROPIC_KEY = 'sk-ant-api03-llm-capture-fake-key-0123456789';
const CODEX_KEY = 'sk-llm-capture-fake-codex-key';
const TOOL_PROMPT = 'please TOOL run echo';
const REPO = join(__dirname, '..', '..');

const gates = { claude: agentGate('claude'), codex: agentGate('codex'), opencode: agentGate('opencode') };

describe('sessions of real agents, through the capture service, the store and the CLI', { timeout: 12 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let anthropic: FakeApiServer;
  let openai: FakeOpenAi;

  before(async () => {
    // Each test skips (or fails, under LLM_CAPTURE_REQUIRE_AGENTS=1) on its own gate.
    if (Object.values(gates).every((g) => g.problem)) return;
    pki = createTestPki();
    anthropic = await startFakeAnthropic(pki.serverCert([ANTHROPIC]));
    openai = await startFakeOpenAi(pki.serverCert([OPENAI, CHATGPT]));
  });

  after(async () => {
    await anthropic?.close();
    await openai?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** A capture service and a scratch HOME for one test; both go away whatever happens. */
  async function withCapture(agent: string, mapped: Record<string, number>, body: (capture: CaptureRun, scratch: Scratch) => Promise<void>): Promise<void> {
    const capture = await startCaptureService(pki.caCertPath, mapped);
    const scratch = makeScratch(agent);
    try {
      await body(capture, scratch);
    } finally {
      scratch.cleanup();
      await capture.close();
    }
  }

  /** Runs an agent and requires it to succeed; a failure message shows what the proxy saw. */
  async function mustRun(capture: CaptureRun, binary: string, args: string[], env: Record<string, string>, cwd: string): Promise<AgentRun> {
    const seen = capture.exchanges.length;
    const failedSeen = capture.failedConnections.length;
    const run = await runAgent(binary, args, { env, cwd });
    await capture.settled();
    assert.equal(run.code, 0, describeRun(run, `what the proxy saw:\n${describeExchanges(capture.exchanges.slice(seen), capture.failedConnections.slice(failedSeen))}`));
    return run;
  }

  /**
   * No exchange with a mapped host was refused, failed upstream or left unfinished (Codex ends its
   * WebSocket without a close frame, which is client-aborted), and the service logged no problem.
   */
  function assertCaptureClean(capture: CaptureRun, hosts: string[]): void {
    const mapped = capture.exchanges.filter((x) => hosts.includes(new URL(x.url).hostname));
    const bad = mapped.filter((x) => x.outcome === undefined || x.outcome === 'refused' || x.outcome === 'upstream-error');
    assert.deepEqual(describeExchanges(bad, []), '(nothing)', `no exchange with a mapped host went wrong\n${describeExchanges(capture.exchanges, capture.failedConnections)}`);
    assert.deepEqual(capture.problems, [], 'the capture service logged no warning or error');
  }

  test('Claude Code: a text turn, then a tool turn with --resume, make one session', { skip: gates.claude.skip }, async () => {
    const binary = gates.claude.binary();
    const sessionId = randomUUID();
    await withCapture('claude', { [ANTHROPIC]: anthropic.port }, async (capture, scratch) => {
      const env = agentEnv(scratch, capture.service.proxy.environment(), { ANTHROPIC_API_KEY: ANTHROPIC_KEY, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
      const first = await mustRun(capture, binary, ['-p', 'say hi', '--output-format', 'json', '--session-id', sessionId], env, scratch.work);
      const second = await mustRun(capture, binary, ['-p', TOOL_PROMPT, '--output-format', 'json', '--resume', sessionId, '--allowedTools', 'Bash'], env, scratch.work);
      assert.equal(lastJsonLine(first.stdout).session_id, sessionId);
      assert.equal(lastJsonLine(second.stdout).session_id, sessionId, '--resume kept the session id');
      assertCaptureClean(capture, [ANTHROPIC]);
      await capture.stop();

      // What the fake answered for this session: the text turn, then the tool call and the final answer.
      const requests = anthropic.requests.filter((r) => r.url.startsWith('/v1/messages?') && r.headers['x-claude-code-session-id'] === sessionId);
      assert.equal(requests.length, 3, 'one model call for the text turn, two for the tool turn');

      const summary = await onlyConversation(capture.dataDir, sessionId);
      assert.equal(summary.client, 'claude-code');
      assert.equal(summary.provider, 'anthropic');
      assert.equal(summary.idSource, 'header:x-claude-code-session-id');
      assert.equal(summary.callCount, 3);
      assert.equal(summary.turnCount, 2);
      assert.equal(summary.title, 'say hi');
      assert.deepEqual(summary.usage, anthropicUsage(3), 'the session counts what the fake reported for its three calls');

      const detail = await show(capture.dataDir, sessionId);
      const main = onlyMainThread(detail);
      assert.deepEqual(main.turns.map((t) => t.prompt), ['say hi', TOOL_PROMPT]);
      const [hi, tool] = main.turns;
      assert.equal(finalAnswer(hi), ANTHROPIC_TEXT_ANSWER);
      assert.deepEqual(hi.usage, anthropicUsage(1));
      assert.deepEqual(tool.usage, anthropicUsage(2));
      assert.equal(tool.llmCallIds.length, 2);

      // The tool call, as the fake sent it, paired with the output of the real `echo`.
      const sentToolUse = toolUseSent(requests[1]);
      const { call, result } = toolPair(tool, 'Bash');
      assert.equal(call.callId, sentToolUse.id);
      assert.deepEqual(JSON.parse(call.arguments ?? ''), { command: TOOL_COMMAND, description: 'Print a marker' });
      assert.ok(call.arguments?.includes(TOOL_COMMAND));
      assert.equal(result.output, TOOL_MARKER);
      assert.equal(call.output, TOOL_MARKER, 'the call shows its paired output');
      assert.deepEqual(tool.steps.filter((s) => s.type === 'thinking').map((s) => s.text), ['The user wants a short answer. I will comply.', 'The user wants a short answer. I will comply.']);
      assert.equal(finalAnswer(tool), `FAKE-FINAL: the tool returned: ${TOOL_MARKER}`);

      await withReader(capture.dataDir, (store) => assertSseStored(store, `https://${ANTHROPIC}/v1/messages?beta=true`, requests));
    });
  });

  test('Codex: a tool turn over WebSocket, then `exec resume --last`, make one session', { skip: gates.codex.skip }, async () => {
    const binary = gates.codex.binary();
    await withCapture('codex', { [OPENAI]: openai.port, [CHATGPT]: openai.port }, async (capture, scratch) => {
      const env = agentEnv(scratch, capture.service.proxy.environment(), { CODEX_API_KEY: CODEX_KEY });
      const callsBefore = openai.calls.length;
      const socketsBefore = openai.sockets.length;
      const first = await mustRun(capture, binary, ['exec', '--skip-git-repo-check', TOOL_PROMPT], env, scratch.work);
      const second = await mustRun(capture, binary, ['exec', 'resume', '--skip-git-repo-check', '--last', 'say hi'], env, scratch.work);
      const sessionId = /^session id: (\S+)$/m.exec(first.stderr)?.[1];
      assert.ok(sessionId, describeRun(first, 'Codex printed no session id'));
      assert.equal(/^session id: (\S+)$/m.exec(second.stderr)?.[1], sessionId, 'resume --last continued the same session');
      assert.match(first.stdout, /FAKE-FINAL: the tool returned:/);
      assert.ok(second.stdout.includes(OPENAI_TEXT_ANSWER), second.stdout);
      assertCaptureClean(capture, [OPENAI, CHATGPT]);
      await capture.stop();

      // Both processes spoke over one WebSocket each, with the session id Codex printed.
      const calls = openai.calls.slice(callsBefore);
      const sockets = openai.sockets.slice(socketsBefore);
      assert.ok(calls.length > 0 && calls.every((c) => c.transport === 'ws' && c.headers['session-id'] === sessionId), 'every model call went over WebSocket with the printed session id');
      assert.equal(sockets.length, 2, 'one WebSocket per process');
      assert.deepEqual(calls.map((c) => c.body.generate === false), [true, false, false, true, false], 'prewarm, prompt, tool output; prewarm, prompt');

      const summary = await onlyConversation(capture.dataDir, sessionId);
      assert.equal(summary.client, 'codex');
      assert.equal(summary.provider, 'openai');
      assert.equal(summary.idSource, 'header:session-id');
      assert.equal(summary.callCount, calls.length);
      assert.equal(summary.turnCount, 2);
      // The fake reports usage on every response, the prewarms' included.
      assert.deepEqual(summary.usage, openAiUsage(calls.length));

      const detail = await show(capture.dataDir, sessionId);
      const main = onlyMainThread(detail);
      assert.deepEqual(main.turns.map((t) => t.prompt), [TOOL_PROMPT, 'say hi']);
      const [tool, hi] = main.turns;
      assert.deepEqual(tool.usage, openAiUsage(2), 'the prompt and the tool output (the prewarm is a side call)');
      assert.deepEqual(hi.usage, openAiUsage(1));

      // The code-mode call as the fake sent it, and the output Codex sent back for it.
      const sentCall = outputItems(openai, calls[1]).find((i) => i.type === 'custom_tool_call');
      assert.ok(sentCall, 'the fake answered the prompt with a custom tool call');
      const sentOutput = inputItems(calls[2]).find((i) => i.type === 'custom_tool_call_output');
      assert.ok(sentOutput, 'Codex sent the tool output back');
      assert.equal(sentOutput.call_id, sentCall.call_id);
      const { call, result } = toolPair(tool, 'exec');
      assert.equal(call.callId, sentCall.call_id);
      assert.equal(call.arguments, sentCall.input);
      assert.ok(call.arguments?.includes(TOOL_COMMAND));
      // The output is a list of input_text parts; shown as one text, the parts joined as they are.
      assert.equal(result.output, partsText(sentOutput.output));
      assert.ok(result.output?.includes(TOOL_MARKER), 'the output of the real `echo`');
      assert.equal(finalAnswer(tool), `FAKE-FINAL: the tool returned: ${outputText(sentOutput.output)}`);
      assert.equal(finalAnswer(hi), OPENAI_TEXT_ANSWER);
      assert.ok(detail.threads.some((t) => t.kind === 'side' && t.sideKind === 'prewarm'), 'the prewarms are kept as side calls');

      await withReader(capture.dataDir, (store) => assertWsStored(store, `wss://${OPENAI}/v1/responses`, sockets));
    });
  });

  test('OpenCode: a tool turn, then a second prompt with --session, make one session', { skip: gates.opencode.skip }, async () => {
    const binary = gates.opencode.binary();
    await withCapture('opencode', { [ANTHROPIC]: anthropic.port }, async (capture, scratch) => {
      // models.opencode.ai and registry.npmjs.org are refused (not mapped): OpenCode goes on with its built-in model list.
      const env = agentEnv(scratch, capture.service.proxy.environment(), { ANTHROPIC_API_KEY: ANTHROPIC_KEY });
      const model = 'anthropic/claude-sonnet-4-5';
      const first = await mustRun(capture, binary, ['run', '--format', 'json', '-m', model, TOOL_PROMPT], env, scratch.work);
      const sessionId = openCodeSessionId(first);
      const second = await mustRun(capture, binary, ['run', '--format', 'json', '-m', model, '--session', sessionId, 'say hi'], env, scratch.work);
      assert.equal(openCodeSessionId(second), sessionId, '--session continued the same session');
      assert.ok(openCodeText(first).includes(`FAKE-FINAL: the tool returned: ${TOOL_MARKER}`), first.stdout);
      assert.ok(openCodeText(second).includes(ANTHROPIC_TEXT_ANSWER), second.stdout);
      assertCaptureClean(capture, [ANTHROPIC]);
      await capture.stop();

      const requests = anthropic.requests.filter((r) => r.url === '/v1/messages' && r.headers['x-session-id'] === sessionId);
      const mainRequests = requests.filter((r) => isRecord(r.body) && Array.isArray(r.body.tools) && r.body.tools.length > 0);
      assert.equal(mainRequests.length, 3, 'the tool call, its result, the second prompt (besides title requests)');

      const summary = await onlyConversation(capture.dataDir, sessionId);
      assert.equal(summary.client, 'opencode');
      assert.equal(summary.provider, 'anthropic');
      assert.equal(summary.idSource, 'header:x-session-id');
      assert.equal(summary.callCount, requests.length);
      assert.deepEqual(summary.usage, anthropicUsage(requests.length));

      const detail = await show(capture.dataDir, sessionId);
      const main = onlyMainThread(detail);
      // OpenCode sends each prompt as the user's text message (`run` quotes arguments with spaces).
      assert.deepEqual(main.turns.map((t) => t.prompt), [lastUserText(mainRequests[0]), lastUserText(mainRequests[2])]);
      assert.ok(main.turns[0].prompt.includes(TOOL_PROMPT));
      assert.ok(main.turns[1].prompt.includes('say hi'));
      const [tool, hi] = main.turns;
      const sentToolUse = toolUseSent(mainRequests[0]);
      const { call, result } = toolPair(tool, 'bash');
      assert.equal(call.callId, sentToolUse.id);
      assert.deepEqual(JSON.parse(call.arguments ?? ''), { command: TOOL_COMMAND, description: 'Print a marker' });
      assert.equal(result.output?.trim(), TOOL_MARKER);
      assert.equal(finalAnswer(tool), `FAKE-FINAL: the tool returned: ${result.output}`);
      assert.equal(finalAnswer(hi), ANTHROPIC_TEXT_ANSWER);
      assert.deepEqual(tool.usage, anthropicUsage(2));
      assert.deepEqual(hi.usage, anthropicUsage(1));

      await withReader(capture.dataDir, (store) => assertSseStored(store, `https://${ANTHROPIC}/v1/messages`, requests));
    });
  });
});

// --- the `llm-capture` CLI, as a separate process ---

/** Runs `llm-capture ARGS` from the source (what dist/cli.js is built from) and parses its --json output. */
async function captureCli(args: string[]): Promise<unknown> {
  const scratch = makeScratch('cli');
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch.home, LANG: 'C.UTF-8' };
    const run = await runAgent(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), ...args], { env, cwd: REPO });
    assert.equal(run.code, 0, `llm-capture ${args.join(' ')}: ${describeRun(run)}`);
    try {
      return JSON.parse(run.stdout) as unknown;
    } catch {
      assert.fail(`llm-capture ${args.join(' ')} printed no JSON: ${describeRun(run)}`);
    }
  } finally {
    scratch.cleanup();
  }
}

/** `sessions --json`: the one session with a conversation (side-only sessions have no turns) must be `id`. */
async function onlyConversation(dataDir: string, id: string): Promise<SessionSummary> {
  const sessions = (await captureCli(['sessions', '--json', '--data-dir', dataDir])) as SessionSummary[];
  const conversations = sessions.filter((s) => s.turnCount > 0);
  assert.deepEqual(conversations.map((s) => s.id), [id], `one session, with the agent's id:\n${JSON.stringify(sessions, null, 2)}`);
  return conversations[0];
}

async function show(dataDir: string, id: string): Promise<SessionDetail> {
  const detail = (await captureCli(['show', id, '--json', '--data-dir', dataDir])) as SessionDetail;
  assert.equal(detail.id, id);
  return detail;
}

function onlyMainThread(detail: SessionDetail): Thread {
  const threads = detail.threads.filter((t) => t.kind !== 'side');
  assert.deepEqual(threads.map((t) => t.kind), ['main'], `one main thread and no other:\n${describeThreads(detail)}`);
  return threads[0];
}

function describeThreads(detail: SessionDetail): string {
  return detail.threads.map((t) => `${t.id} (${t.kind}): ${t.turns.map((u) => JSON.stringify(u.prompt)).join(', ')}`).join('\n');
}

/** A turn's tool call named `name` and the result paired with it by call id. */
function toolPair(turn: Turn, name: string): { call: Step; result: Step } {
  const calls = turn.steps.filter((s) => s.type === 'tool_call');
  assert.deepEqual(calls.map((s) => s.name), [name], 'one tool call');
  const results = turn.steps.filter((s) => s.type === 'tool_result');
  assert.equal(results.length, 1, 'one tool result');
  assert.ok(calls[0].callId, 'the call has an id');
  assert.equal(results[0].callId, calls[0].callId, 'the result is paired with the call');
  assert.equal(results[0].name, name);
  return { call: calls[0], result: results[0] };
}

/** The text of the turn's last assistant step. */
function finalAnswer(turn: Turn): string | undefined {
  const texts = turn.steps.filter((s) => s.type === 'text' && s.role === 'assistant');
  return texts[texts.length - 1]?.text;
}

// --- what the fakes sent and saw ---

function anthropicUsage(calls: number): UsageTotals {
  return {
    inputTokens: calls * ANTHROPIC_USAGE.input_tokens,
    outputTokens: calls * ANTHROPIC_USAGE.output_tokens,
    cacheReadTokens: calls * ANTHROPIC_USAGE.cache_read_input_tokens,
    cacheWriteTokens: calls * ANTHROPIC_USAGE.cache_creation_input_tokens,
    reasoningTokens: 0,
  };
}

/** OpenAI counts cached tokens inside input_tokens; the contract's inputTokens is the uncached part. */
function openAiUsage(calls: number): UsageTotals {
  const cached = OPENAI_USAGE.input_tokens_details.cached_tokens;
  return {
    inputTokens: calls * (OPENAI_USAGE.input_tokens - cached),
    outputTokens: calls * OPENAI_USAGE.output_tokens,
    cacheReadTokens: calls * cached,
    cacheWriteTokens: 0,
    reasoningTokens: calls * OPENAI_USAGE.output_tokens_details.reasoning_tokens,
  };
}

/** The tool_use block the fake answered `request` with, read back from the SSE it sent. */
function toolUseSent(request: RecordedApiRequest): { id: string; name: string } {
  const starts = parseSse(request.sseEvents ?? []).map((e) => JSON.parse(e.data) as Record<string, unknown>)
    .filter((d) => d.type === 'content_block_start' && isRecord(d.content_block) && d.content_block.type === 'tool_use');
  assert.equal(starts.length, 1, 'the fake answered with one tool_use');
  return starts[0].content_block as { id: string; name: string };
}

function lastUserText(request: RecordedApiRequest): string {
  const messages = isRecord(request.body) && Array.isArray(request.body.messages) ? request.body.messages.filter(isRecord) : [];
  const user = messages.filter((m) => m.role === 'user').pop();
  const blocks = Array.isArray(user?.content) ? user.content.filter(isRecord) : [{ type: 'text', text: user?.content }];
  return blocks.filter((b) => b.type === 'text').map((b) => String(b.text)).join('\n');
}

function partsText(output: unknown): string {
  if (typeof output === 'string') return output;
  assert.ok(Array.isArray(output), `a tool output is a string or a list of parts: ${JSON.stringify(output)}`);
  return output.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : assert.fail(`a text part: ${JSON.stringify(p)}`))).join('');
}

function inputItems(call: ResponsesCall): Record<string, unknown>[] {
  return Array.isArray(call.body.input) ? call.body.input.filter(isRecord) : [];
}

/** The output items of the response the fake sent for `call` (from its response.completed frame). */
function outputItems(fake: FakeOpenAi, call: ResponsesCall): Record<string, unknown>[] {
  for (const socket of fake.sockets) {
    for (const frame of socket.frames) {
      const response = isRecord(frame.data) && frame.data.type === 'response.completed' && isRecord(frame.data.response) ? frame.data.response : undefined;
      if (response?.id === call.responseId && Array.isArray(response.output)) return response.output.filter(isRecord);
    }
  }
  return [];
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '') as unknown;
  assert.ok(isRecord(parsed), stdout);
  return parsed;
}

/** OpenCode's --format json prints one event per line, each naming its sessionID. */
function openCodeEvents(run: AgentRun): Record<string, unknown>[] {
  return run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as unknown).filter(isRecord);
}

function openCodeSessionId(run: AgentRun): string {
  const ids = new Set(openCodeEvents(run).map((e) => e.sessionID));
  assert.equal(ids.size, 1, describeRun(run, 'one sessionID in the events'));
  const [id] = ids;
  assert.ok(typeof id === 'string' && id.startsWith('ses_'), describeRun(run));
  return id;
}

function openCodeText(run: AgentRun): string {
  return openCodeEvents(run).filter((e) => e.type === 'text' && isRecord(e.part)).map((e) => String((e.part as Record<string, unknown>).text)).join('');
}

// --- the store, read back ---

async function withReader(dataDir: string, fn: (store: CaptureStore) => void): Promise<void> {
  const store = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    fn(store);
  } finally {
    await store.close();
  }
}

interface SentEvent { event?: string; data: string }

/** The fake writes `event: NAME\ndata: JSON\n\n` per event. */
function parseSse(texts: string[]): SentEvent[] {
  return texts.map((t) => {
    const match = /^event: (.*)\ndata: (.*)\n\n$/s.exec(t);
    assert.ok(match, `an event as the fake writes them: ${JSON.stringify(t)}`);
    return { event: match[1], data: match[2] };
  });
}

/**
 * The model calls at `url`, in capture order, are the fake's `requests` in order: each stored
 * request body is what the fake received, each stored response body the exact bytes of the
 * events it wrote, and each stored event list those events.
 */
function assertSseStored(store: CaptureStore, url: string, requests: RecordedApiRequest[]): void {
  const stored = allExchangeSummaries(store).filter((x) => x.method === 'POST' && x.url === url);
  assert.equal(stored.length, requests.length, 'one stored exchange per model call');
  stored.forEach((summary, i) => {
    const sent = requests[i].sseEvents;
    assert.ok(sent, 'the fake streamed its answer');
    const exchange = store.getExchange(summary.id);
    assert.ok(exchange);
    assert.equal(exchange.kind, 'sse');
    assert.equal(exchange.outcome, 'complete');
    assert.deepEqual(JSON.parse(exchange.requestBody?.data.toString('utf8') ?? ''), requests[i].body, 'the stored request body is what the fake received');
    const body = exchange.responseBody;
    assert.ok(body && !body.truncated && !body.error, 'a whole response body');
    assert.equal(body.data.toString('utf8'), sent.join(''), 'the stored response body is the SSE the fake sent');
    const events = readAllPages((after) => store.listSseEvents(summary.id, { limit: 1000, after }));
    assert.deepEqual(events.map((e) => ({ event: e.event, data: e.data })), parseSse(sent), 'the stored events are the events the fake sent');
    assert.deepEqual(events.map((e) => e.seq), events.map((_, n) => n));
  });
}

/**
 * The WebSockets at `url`, in capture order, are the fake's sockets in order: the stored text
 * messages in each direction are the frames the fake received and sent, text for text, in order.
 */
function assertWsStored(store: CaptureStore, url: string, sockets: RecordedResponsesSocket[]): void {
  const stored = allExchangeSummaries(store).filter((x) => x.kind === 'websocket' && x.url === url);
  assert.equal(stored.length, sockets.length, 'one stored exchange per WebSocket');
  stored.forEach((summary, i) => {
    assert.equal(summary.statusCode, 101);
    const messages = readAllPages((after) => store.listWsMessages(summary.id, { limit: 1000, after }))
      .filter((m) => m.opcode === 'text')
      .map((m) => ({ direction: m.direction, text: (m.bodyId !== undefined && m.data.length === 0 ? store.getBody(m.bodyId) ?? m.data : m.data).toString('utf8') }));
    const texts = (direction: string): string[] => messages.filter((m) => m.direction === direction).map((m) => m.text);
    const frames = (dir: 'in' | 'out'): string[] => sockets[i].frames.filter((f) => f.dir === dir).map((f) => f.text);
    assert.ok(frames('in').length > 0 && frames('out').length > 0);
    assert.deepEqual(texts('client-to-server'), frames('in'), 'the client frames, as the fake received them');
    assert.deepEqual(texts('server-to-client'), frames('out'), 'the server frames, as the fake sent them');
  });
}
