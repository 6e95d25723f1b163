// Gemini CLI re-sends its history in its own form, and a `--resume`d session comes back from a new
// process with no session id on the wire. Small Gemini exchanges, shaped like what Gemini CLI
// 0.61.0 really sent (test/agents/gemini.test.ts runs it), go through the Gemini dissector and the
// assembler: a tool call must be shown once, paired with its result, and a resumed session must
// stay one session; different content must still stay different.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assemble } from '../../src/conversation/assembler';
import type { SessionDetail, Step } from '../../src/conversation';
import { dissectExchange } from '../../src/llm';
import type { LlmCall } from '../../src/llm/llm-call';
import { httpCase } from '../llm/synthetic';

const URL = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-3-flash:streamGenerateContent?alt=sse';
const UA = 'GeminiCLI-tui/0.61.0/gemini-2.5-pro (linux; x64; terminal)';
const SYSTEM = 'You are Gemini CLI, an autonomous CLI agent.';
/** A resumed process describes itself anew: its system prompt differs from the first process's. */
const RESUMED_SYSTEM = `${SYSTEM}\n\n# Available skills\n- skill-creator`;
const SKIP = 'skip_thought_signature_validator';
const CLI_ID = 'run_shell_command_1796283487121_0';

type Part = Record<string, unknown>;
type Content = { role: 'user' | 'model'; parts: Part[] };

const user = (...texts: string[]): Content => ({ role: 'user', parts: texts.map((text) => ({ text })) });
const model = (...parts: Part[]): Content => ({ role: 'model', parts });
const thought: Part = { text: '**Running it**\n\nI will run the command.', thought: true };
const answer = (text: string): Part => ({ text });
const signatureOnly = (signature: string): Part => ({ text: '', thoughtSignature: signature });
/** The shell call, with the id and signature given (the API often sends neither). */
function shellCall(id?: string, signature?: string, command = 'echo ok'): Part {
  return { functionCall: { ...(id ? { id } : {}), name: 'run_shell_command', args: { command } }, ...(signature ? { thoughtSignature: signature } : {}) };
}
const shellResult = (id: string, output = 'ok'): Content => ({ role: 'user', parts: [{ functionResponse: { id, name: 'run_shell_command', response: { output } } }] });
const CONTEXT = '<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n</session_context>';

/** One streamGenerateContent exchange: the request's contents, answered by `chunks` (each a list of parts). */
function geminiCall(contents: Content[], chunks: Part[][], system = SYSTEM): LlmCall {
  const sse = chunks.map((parts, i) => ({
    data: {
      candidates: [{ content: { role: 'model', parts }, ...(i === chunks.length - 1 ? { finishReason: 'STOP' } : {}), index: 0 }],
      usageMetadata: { promptTokenCount: 42, candidatesTokenCount: 17, totalTokenCount: 59 },
    },
  }));
  const request = { contents, systemInstruction: { parts: [{ text: system }] }, tools: [{ functionDeclarations: [{ name: 'run_shell_command' }] }] };
  const [call] = dissectExchange(httpCase({ url: URL, headers: { 'user-agent': UA }, request, sse }));
  assert.ok(call);
  return call;
}

function only(calls: LlmCall[]): SessionDetail {
  const assembler = assemble(calls);
  const sessions = assembler.sessions();
  assert.equal(sessions.length, 1, `one session: ${sessions.map((s) => s.id).join(', ')}`);
  const detail = assembler.session(sessions[0]!.id);
  assert.ok(detail);
  return detail;
}

function mainSteps(detail: SessionDetail): Step[] {
  const threads = detail.threads.filter((t) => t.kind !== 'side');
  assert.deepEqual(threads.map((t) => t.kind), ['main'], 'one main thread');
  return threads[0]!.turns.flatMap((t) => t.steps);
}

/** Exactly one tool call, its result paired by the CLI's id, no alternative answer, then `final`. */
function assertOneToolCall(steps: Step[], callId: string, final: string): void {
  const calls = steps.filter((s) => s.type === 'tool_call');
  assert.deepEqual(calls.map((s) => [s.name, s.callId, s.output]), [['run_shell_command', callId, '{"output":"ok"}']], 'one tool call, paired');
  assert.deepEqual(steps.filter((s) => s.type === 'tool_result').map((s) => [s.name, s.callId]), [['run_shell_command', callId]]);
  assert.deepEqual(steps.filter((s) => s.alternative), [], 'no alternative answer');
  assert.equal(steps.filter((s) => s.type === 'text' && s.role === 'assistant').pop()?.text, final);
}

describe('Gemini CLI histories', () => {
  test('the 0.61 user agent (GeminiCLI-tui/…) is Gemini CLI even when the body does not say so', () => {
    const call = geminiCall([user('hi')], [[answer('hello')]], 'You are terse.');
    assert.equal(call.client, 'gemini-cli');
  });

  // Each way the CLI re-sends the model's tool call differently from how the API sent it, alone and together.
  const cases: { name: string; sent: Part[][]; resent: Part[]; callId: string }[] = [
    { name: 'the CLI gives the id-less call its own id', sent: [[shellCall()]], resent: [shellCall(CLI_ID)], callId: CLI_ID },
    { name: 'the CLI adds a thought signature', sent: [[shellCall('c1')]], resent: [shellCall('c1', SKIP)], callId: 'c1' },
    { name: 'the CLI drops the thought part', sent: [[thought], [shellCall('c1', 'SIG')]], resent: [shellCall('c1', 'SIG')], callId: 'c1' },
    { name: 'all three, as 0.61 does with Gemini 3', sent: [[thought], [shellCall(undefined, 'SIG')]], resent: [shellCall(CLI_ID, 'SIG')], callId: CLI_ID },
    { name: 'all three, signature made up', sent: [[thought], [shellCall()]], resent: [shellCall(CLI_ID, SKIP)], callId: CLI_ID },
  ];
  for (const c of cases) {
    test(`a tool call re-sent in the CLI's form is shown once: ${c.name}`, () => {
      const prompt = user(CONTEXT, 'please run echo');
      const calls = [
        geminiCall([prompt], c.sent),
        geminiCall([prompt, model(...c.resent), shellResult(c.callId)], [[answer('Done: ok')], [signatureOnly('SIG2')]]),
      ];
      assertOneToolCall(mainSteps(only(calls)), c.callId, 'Done: ok');
    });
  }

  test('a --resume\'d session (new system prompt, re-signed call, each result twice) stays one session', () => {
    // The first process: a text turn, then a tool turn, as the real 0.61.0 sent them.
    const hi = user(CONTEXT, 'say hi');
    const first = [
      geminiCall([hi], [[answer('Hello!')], [signatureOnly('S1')]]),
      geminiCall([hi, model(answer('Hello!')), user('please run echo')], [[thought], [shellCall(undefined, 'S2')]]),
      geminiCall([hi, model(answer('Hello!')), user('please run echo'), model(shellCall(CLI_ID, 'S2')), shellResult(CLI_ID)], [[answer('Done: ok')]]),
    ];
    // The resumed process: the signature it lost becomes the CLI's own, the result comes twice.
    const twice = { role: 'user' as const, parts: [...shellResult(CLI_ID).parts, ...shellResult(CLI_ID).parts] };
    const resumed = geminiCall(
      [hi, model(answer('Hello!')), user('please run echo'), model(shellCall(CLI_ID, SKIP)), twice, model(answer('Done: ok')), user('say bye')],
      [[answer('Bye!')]], RESUMED_SYSTEM,
    );
    const detail = only([...first, resumed]);
    assert.equal(detail.summary.client, 'gemini-cli');
    const main = detail.threads.find((t) => t.kind === 'main');
    assert.deepEqual(main?.turns.map((t) => t.prompt), ['say hi', 'please run echo', 'say bye']);
    const steps = mainSteps(detail);
    assertOneToolCall(steps, CLI_ID, 'Bye!');
    assert.equal(detail.summary.callCount, 4);
  });

  test('different content stays different: other arguments, another result, another conversation', () => {
    const prompt = user(CONTEXT, 'please run echo');
    const sent = geminiCall([prompt], [[thought], [shellCall()]]);
    // The re-sent call ran another command: not the call the API sent, so an alternative.
    const other = only([sent, geminiCall([prompt, model(shellCall(CLI_ID, SKIP, 'rm -rf /')), shellResult(CLI_ID)], [[answer('Done')]])]);
    assert.equal(mainSteps(other).filter((s) => s.type === 'tool_call').length, 2);
    assert.ok(mainSteps(other).some((s) => s.alternative));

    // A repeated result that differs is content, not a repeat.
    const done = [sent, geminiCall([prompt, model(shellCall(CLI_ID)), shellResult(CLI_ID)], [[answer('Done')]])];
    const differs = { role: 'user' as const, parts: [...shellResult(CLI_ID).parts, ...shellResult(CLI_ID, 'changed').parts] };
    const later = geminiCall([prompt, model(shellCall(CLI_ID)), differs, model(answer('Done')), user('next')], [[answer('Next')]]);
    const steps = mainSteps(only([...done, later]));
    assert.ok(steps.some((s) => s.alternative || s.type === 'tool_result' && s.output === '{"output":"changed"}'), 'the changed result is kept');

    // A new process with another prompt and system prompt is another conversation.
    const elsewhere = geminiCall([user(CONTEXT, 'something else')], [[answer('Sure')]], RESUMED_SYSTEM);
    assert.equal(assemble([...done, elsewhere]).sessions().filter((s) => s.turnCount > 0).length, 2);
  });
});
