// The stored history bench/extension-bench.ts opens: Claude Code sessions written into a data
// directory with the real CaptureStore, as the recorder writes them.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { LiveSessions } from '../../src/app/live-sessions';
import { sessionNode } from '../../src/app/session-tree-model';
import type { ExchangeRecord, StoredBody } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { seededRandom, TextGenerator } from '../../test/store/fixtures/synthetic-session';

export const FAKE_HOST = 'api.anthropic.com';
export const MODEL = 'claude-sonnet-4-5-20250929';
export const BIG_TITLE = 'Benchmark: refactor the capture store into smaller modules';
/** Calls per session of the smaller sessions that fill the store up to --calls. */
export const SMALL_SESSION_CALLS = 50;

function storedBody(data: Buffer): StoredBody {
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** A Messages API SSE answer that streams `text` in ~40-character deltas. */
export function anthropicSse(text: string, usage: { input: number; output: number }, model: string, id: string): string {
  const parts = [
    sse('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < text.length; i += 40) parts.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 40) } }));
  parts.push(
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output } }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return parts.join('');
}

const CLAUDE_HEADERS = (sessionId: string): [string, string][] => [
  ['host', FAKE_HOST], ['user-agent', 'claude-cli/2.1.80 (external, cli)'], ['content-type', 'application/json'],
  ['anthropic-version', '2023-06-01'], ['anthropic-beta', 'claude-code-20250219,interleaved-thinking-2025-05-14'],
  ['x-claude-code-session-id', sessionId], ['x-api-key', '[REDACTED:bench]'],
];

export interface Seeded {
  /** The big session (the newest, so the first row of the Sessions view). */
  sessionId: string;
  title: string;
  calls: number;
  sessions: number;
  rawBytes: number;
  largestRequest: number;
  ms: number;
}

interface SessionShape { turns: number; title: string; systemBytes: number; toolBytes: number; promptBytes: number; answerBytes: number }

/**
 * `calls` calls in all, written the way the recorder writes them: first (older) sessions of
 * SMALL_SESSION_CALLS calls until only `bigTurns` are left, then one Claude Code session of
 * `bigTurns` calls, the newest. In every session each request resends the whole history (system
 * prompt, 12 tools, every earlier prompt and answer) plus a new prompt; each answer is streamed
 * text. The big session has a 12 KB system prompt, 300-byte prompts and 700-byte answers (the last
 * request ~600 KB at 500 turns); the small ones a 4 KB system prompt, 500-byte prompts and
 * 1.5 KB answers (the last request ~110 KB). Ids and times increase in that order, so the store
 * is read oldest first and the big session's row shows its final figures only once all calls are read.
 */
export async function seedStore(dataDir: string, calls: number, bigTurns: number, Store: typeof CaptureStore = CaptureStore, endsAgoMs = 120_000): Promise<Seeded> {
  const t0 = performance.now();
  mkdirSync(dataDir, { recursive: true });
  const gen = new TextGenerator(seededRandom(6));
  const store = await Store.open({ dataDir, mode: 'writer', retention: {} });
  const shapes: SessionShape[] = [];
  for (let left = calls - bigTurns, k = 1; left > 0; left -= SMALL_SESSION_CALLS, k++) {
    shapes.push({ turns: Math.min(SMALL_SESSION_CALLS, left), title: `Seeded session ${k}: ${gen.prose(60)}`, systemBytes: 4000, toolBytes: 200, promptBytes: 500, answerBytes: 1500 });
  }
  shapes.push({ turns: bigTurns, title: BIG_TITLE, systemBytes: 12_000, toolBytes: 800, promptBytes: 300, answerBytes: 700 });
  const stepMs = 20_000;
  let at = Date.now() - calls * stepMs - endsAgoMs;
  let id = 0;
  let rawBytes = 0;
  let largestRequest = 0;
  let bigId = '';
  for (const [c, shape] of shapes.entries()) {
    const sessionId = randomUUID();
    bigId = sessionId;
    const connectionId = c + 1;
    store.connectionUpdated({ id: connectionId, clientAddress: '127.0.0.1', clientPort: 40000 + c, targetHost: FAKE_HOST, targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: at });
    const system = [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text', text: gen.prose(shape.systemBytes), cache_control: { type: 'ephemeral' } },
    ];
    const tools = ['Read', 'Edit', 'Write', 'Bash', 'Grep', 'Glob', 'Task', 'WebFetch', 'TodoWrite', 'NotebookEdit', 'MultiEdit', 'LS'].map((name) => ({
      name, description: gen.prose(shape.toolBytes), input_schema: { type: 'object', properties: { [gen.word()]: { type: 'string', description: gen.prose(100) } } },
    }));
    const messages: { role: string; content: { type: string; text: string }[] }[] = [];
    for (let n = 0; n < shape.turns; n++) {
      messages.push({ role: 'user', content: [{ type: 'text', text: n === 0 ? shape.title : `Turn ${n + 1}: ${gen.prose(shape.promptBytes)}` }] });
      const request = Buffer.from(JSON.stringify({
        model: MODEL, messages, system, tools, metadata: { user_id: `user_${'a'.repeat(64)}_account__session_${sessionId}` }, max_tokens: 32000, stream: true,
      }));
      const answer = gen.prose(shape.answerBytes);
      id++;
      const response = Buffer.from(anthropicSse(answer, { input: 1000, output: 100 }, MODEL, `msg_bench_${id}`));
      messages.push({ role: 'assistant', content: [{ type: 'text', text: answer }] });
      at += stepMs;
      const record: ExchangeRecord = {
        id, connectionId, method: 'POST', url: `https://${FAKE_HOST}/v1/messages?beta=true`, httpVersion: '1.1', kind: 'sse',
        requestHeaders: CLAUDE_HEADERS(sessionId), responseHeaders: [['content-type', 'text/event-stream; charset=utf-8'], ['request-id', `req_bench_${id}`]],
        statusCode: 200, statusMessage: 'OK', requestBody: storedBody(request), responseBody: storedBody(response),
        startedAt: at, requestEndedAt: at + 5, responseStartedAt: at + 800, endedAt: at + 8_000, outcome: 'complete', errors: [],
      };
      store.exchangeUpdated(record);
      rawBytes += request.length + response.length;
      largestRequest = Math.max(largestRequest, request.length);
      if (id % 25 === 0) await store.flush();
    }
  }
  await store.flush();
  await store.close();
  return { sessionId: bigId, title: BIG_TITLE, calls: id, sessions: shapes.length, rawBytes, largestRequest, ms: performance.now() - t0 };
}

/** Reads the seeded store back as the extension will (LiveSessions), for the expected tree row. */
export async function assembleSession(dataDir: string, sessionId: string): Promise<{ turns: number; sessions: number; rowText: string; ms: number }> {
  const t0 = performance.now();
  const reader = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    const live = new LiveSessions(reader);
    while (live.update(100).more) { /* a slice at a time, as the extension does */ }
    const detail = live.assembler.session(sessionId);
    if (!detail) throw new Error(`the generated session ${sessionId} did not assemble`);
    const description = sessionNode(detail.summary, { now: Date.now() }).description;
    // The row shows "<model> · <tokens> tok · <cost> · <age>"; the age may differ, the rest only once all calls are in.
    const rowText = description.split(' · ').slice(0, -1).join(' · ');
    return {
      turns: detail.threads.find((t) => t.kind === 'main')?.turns.length ?? 0,
      sessions: live.assembler.sessions().length,
      rowText,
      ms: performance.now() - t0,
    };
  } finally {
    await reader.close();
  }
}
