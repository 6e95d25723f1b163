// `llm-capture demo`, run as a user would (the real CLI as a process): it captures, through the
// real proxy and into a directory of its own, a Claude Code-like session (a Bash call with its
// output, a subagent started by an Agent call) and a Codex-like session over a permessage-deflate
// WebSocket; the other commands then show them; the made-up API keys are stored nowhere; a
// second run starts afresh; and a directory with captures the demo did not make is left alone.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SessionDetail, SessionSummary, Step, Thread } from '../../src/conversation';
import {
  BASH_COMMAND, CODEX_ANSWER, CODEX_COMMAND, CODEX_PROMPT, DEMO_ANTHROPIC_KEY, DEMO_MARKER, DEMO_OPENAI_KEY, PROMPT_SUBAGENT, PROMPT_TODOS, SUBAGENT_PROMPT,
} from '../../src/demo';
import { LiveSessions } from '../../src/app/live-sessions';
import { DerivedSessions } from '../../src/engine/derived-sessions';
import { CaptureStore } from '../../src/store';
import { runCli, type CliResult } from './cli-process';

const KEYS = [DEMO_ANTHROPIC_KEY, DEMO_OPENAI_KEY];

async function cli(args: string[]): Promise<CliResult> {
  const run = await runCli(args);
  assert.equal(run.code, 0, `llm-capture ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
  return run;
}

async function sessionsIn(dir: string): Promise<SessionSummary[]> {
  return JSON.parse((await cli(['sessions', '--json', '--data-dir', dir])).stdout) as SessionSummary[];
}

async function show(dir: string, id: string): Promise<SessionDetail> {
  return JSON.parse((await cli(['show', id, '--json', '--data-dir', dir])).stdout) as SessionDetail;
}

function steps(thread: Thread | undefined, type: Step['type']): Step[] {
  return (thread?.turns ?? []).flatMap((t) => t.steps).filter((s) => s.type === type);
}

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('llm-capture demo', { timeout: 120_000 }, () => {
  let root: string;
  let dir: string;
  let first: CliResult;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'llmc-demo-test-'));
    dir = join(root, 'demo');
    first = await cli(['demo', '--data-dir', dir]);
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  test('prints the two sessions and the commands to look closer, with its --data-dir', async () => {
    assert.equal(first.stderr, '', 'no warnings');
    const sessions = await sessionsIn(dir);
    assert.deepEqual(sessions.map((s) => s.client).sort(), ['claude-code', 'codex']);
    for (const s of sessions) assert.ok(first.stdout.includes(s.id), `the output lists session ${s.id}`);
    const claude = sessions.find((s) => s.client === 'claude-code');
    assert.ok(first.stdout.includes(`llm-capture show ${claude?.id} --markdown --data-dir ${dir}`));
    for (const command of [`llm-capture log --data-dir ${dir}`, `llm-capture export --har demo.har --data-dir ${dir}`, 'llm-capture proxy', 'eval "$(llm-capture env)"']) {
      assert.ok(first.stdout.includes(command), `the output shows ${command}`);
    }
  });

  test('the Claude Code-like session: prompts, the Bash call with its output, the subagent under its Agent call, costs', async () => {
    const summary = (await sessionsIn(dir)).find((s) => s.client === 'claude-code');
    assert.ok(summary);
    assert.equal(summary.idSource, 'header:x-claude-code-session-id');
    assert.equal(summary.turnCount, 2);
    assert.ok(summary.costUsd !== null && summary.costUsd > 0, 'a priced model, so the session has a cost');
    assert.ok(summary.usage.cacheReadTokens > 0 && summary.usage.cacheWriteTokens > 0, 'cache reads and writes are counted');

    const detail = await show(dir, summary.id);
    const main = detail.threads.find((t) => t.kind === 'main');
    assert.deepEqual(main?.turns.map((t) => t.prompt), [PROMPT_TODOS, PROMPT_SUBAGENT]);
    assert.ok(steps(main, 'thinking').length > 0, 'the thinking is kept');
    const bash = steps(main, 'tool_call').find((s) => s.name === 'Bash');
    assert.ok(bash, 'the Bash call');
    assert.equal((JSON.parse(bash.arguments ?? '{}') as { command: string }).command, BASH_COMMAND);
    assert.match(bash.output ?? '', /^src\/server\.ts:14:/, 'paired with its output');
    assert.ok(steps(main, 'tool_result').some((s) => s.callId === bash.callId && s.output === bash.output));

    const agent = steps(main, 'tool_call').find((s) => s.name === 'Agent');
    assert.ok(agent, 'the Agent call');
    const sub = detail.threads.find((t) => t.kind === 'subagent');
    assert.ok(sub, 'a subagent thread');
    assert.equal(sub.parentToolCallId, agent.callId, 'linked to the Agent call that started it');
    assert.equal(sub.parentThreadId, main?.id);
    assert.equal(agent.subagentThreadId, sub.id);
    assert.equal(sub.turns[0]?.prompt, SUBAGENT_PROMPT);
    assert.ok(steps(sub, 'tool_call').some((s) => s.name === 'Grep'), "the subagent's own tool call");
    const report = steps(sub, 'text').at(-1)?.text ?? '';
    assert.ok(report && agent.output?.startsWith(report), "the subagent's report is the Agent call's result");
    assert.ok(detail.threads.some((t) => t.kind === 'side' && t.sideKind === 'title'), 'the title request is a side call');
    assert.equal(summary.title, 'Count TODO comments in src', 'the title comes from the title request');
  });

  test('the Codex-like session over a WebSocket: the prompt, the exec_command call, its output and the answer', async () => {
    const summary = (await sessionsIn(dir)).find((s) => s.client === 'codex');
    assert.ok(summary);
    assert.equal(summary.idSource, 'header:session-id');
    const detail = await show(dir, summary.id);
    const main = detail.threads.find((t) => t.kind === 'main');
    assert.deepEqual(main?.turns.map((t) => t.prompt), [CODEX_PROMPT]);
    const call = steps(main, 'tool_call').find((s) => s.name === 'exec_command');
    assert.ok(call);
    assert.equal((JSON.parse(call.arguments ?? '{}') as { cmd: string }).cmd, CODEX_COMMAND);
    assert.match(call.output ?? '', /ℹ fail 1/);
    assert.equal(steps(main, 'text').at(-1)?.text, CODEX_ANSWER);
    assert.ok(detail.threads.some((t) => t.kind === 'side' && t.sideKind === 'prewarm'), 'the prewarm frame is a side call');
    assert.ok(summary.costUsd !== null && summary.costUsd > 0);
  });

  test('search finds a tool result across both sessions, with the filters, as lines and as JSON (decision 71)', async () => {
    const lines = (await cli(['search', 'todo: retry', '--data-dir', dir])).stdout.trim().split('\n');
    assert.ok(lines.length >= 2, lines.join('\n'));
    assert.ok(lines.every((l) => /^[0-9a-f]{8} {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}claude-code.* {2}turn \d+ {2}(result|text|arguments|prompt): .*TODO: retry/i.test(l)), lines.join('\n'));
    const hits = JSON.parse((await cli(['search', 'todo: retry', '--json', '--limit', '1', '--data-dir', dir])).stdout) as Array<{ sessionId: string; field: string }>;
    assert.equal(hits.length, 1);
    assert.equal((await cli(['search', 'todo: retry', '--client', 'codex', '--data-dir', dir])).stdout, 'nothing captured mentions "todo: retry"\n');
    assert.equal((await cli(['search', CODEX_COMMAND, '--client', 'codex', '--json', '--data-dir', dir])).stdout.includes('"client": "codex"'), true);
    // With the sessions VS Code's engine saves beside the store (derived/), the same answer, read from them.
    const before = (await cli(['search', 'todo', '--json', '--data-dir', dir])).stdout;
    const store = await CaptureStore.open({ dataDir: dir, mode: 'reader' });
    try {
      const live = new LiveSessions(store);
      while (live.update().more) { /* read every exchange */ }
      const newest = store.listExchanges({ limit: 1 }).items[0]!;
      const sessions = live.assembler.sessions();
      // Marked, to tell what was read from them.
      const saved = sessions.map((s) => { const d = live.assembler.session(s.id)!; return { ...d, summary: { ...d.summary, title: `${d.summary.title} (saved)` } }; });
      await new DerivedSessions(dir).save({ lastExchangeId: newest.id, lastStartedAt: newest.startedAt }, live.calls, sessions, saved);
    } finally {
      await store.close();
    }
    const fromSaved = JSON.parse((await cli(['search', 'todo', '--json', '--data-dir', dir])).stdout) as Array<{ title: string }>;
    assert.ok(fromSaved.length > 0 && fromSaved.every((h) => h.title.endsWith(' (saved)')), 'read from the saved sessions');
    assert.deepEqual(fromSaved.map((h) => ({ ...h, title: h.title.replace(/ \(saved\)$/, '') })), JSON.parse(before));
    const bad = await runCli(['search', 'x', '--since', 'yesterday', '--data-dir', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since takes a date such as 2026-12-03/);
  });

  test('log lists the exchanges: Messages streams and the Responses WebSocket, labelled', async () => {
    const log = JSON.parse((await cli(['log', '--json', '--data-dir', dir])).stdout) as { url: string; kind: string; label?: string; status?: number }[];
    const messages = log.filter((x) => x.url === 'https://api.anthropic.com/v1/messages?beta=true');
    assert.equal(messages.length, 7, 'a title request, four main-thread calls and two subagent calls');
    assert.ok(messages.every((x) => x.status === 200 && x.label === 'demo-claude'));
    assert.equal(messages.filter((x) => x.kind === 'sse').length, 6);
    const sockets = log.filter((x) => x.kind === 'websocket');
    assert.deepEqual(sockets.map((x) => [x.url, x.status, x.label]), [['wss://api.openai.com/v1/responses', 101, 'demo-codex']]);
  });

  test('the API keys are stored nowhere and shown nowhere; exports show them redacted', async () => {
    const har = join(root, 'demo.har');
    await cli(['export', '--har', har, '--data-dir', dir]);
    const harText = readFileSync(har, 'utf8');
    assert.match(harText, /"name": "Sec-WebSocket-Extensions",\s*"value": "permessage-deflate"/, 'the WebSocket was compressed (the answer accepted permessage-deflate)');
    assert.match(harText, /"name": "x-api-key",\s*"value": "\[REDACTED:[0-9a-f]+\]"/i);
    const outputs = [first.stdout, harText, (await cli(['log', '--json', '--data-dir', dir])).stdout];
    for (const s of await sessionsIn(dir)) outputs.push(JSON.stringify(await show(dir, s.id)));
    for (const key of KEYS) {
      for (const file of filesUnder(dir)) assert.ok(!readFileSync(file).includes(key), `${key} is not in ${file}`);
      for (const text of outputs) assert.ok(!text.includes(key), `${key} is not in the output`);
    }
  });

  test('a second run starts the demo store afresh', async () => {
    const before = await sessionsIn(dir);
    await cli(['demo', '--data-dir', dir]);
    const after = await sessionsIn(dir);
    assert.equal(after.length, 2, 'only the new run’s sessions');
    assert.ok(after.every((s) => !before.some((b) => b.id === s.id)), 'new session ids');
  });

  test('refuses a directory with captures the demo did not make, and leaves it as it was', async () => {
    const other = join(root, 'not-a-demo');
    await cli(['demo', '--data-dir', other]);
    unlinkSync(join(other, DEMO_MARKER));
    const snapshot = readFileSync(join(other, 'capture.sqlite'));
    const refused = await runCli(['demo', '--data-dir', other]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /holds captured data that the demo did not make/);
    assert.deepEqual(readFileSync(join(other, 'capture.sqlite')), snapshot, 'the store is untouched');
    assert.equal((await sessionsIn(other)).length, 2);
  });

  test('refuses a non-empty directory it did not make, even without captures', async () => {
    const other = mkdtempSync(join(root, 'data-'));
    writeFileSync(join(other, 'ca.pem'), 'not the demo’s\n');
    const refused = await runCli(['demo', '--data-dir', other]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty and was not made by the demo/);
    assert.deepEqual(readdirSync(other), ['ca.pem'], 'nothing was added or removed');
  });
});
