// Every command's output reaches a pipe whole, however slowly the reader takes it, and the
// command exits 0 afterwards; a reader that stops early (`log | head -1`) ends it quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ExchangeRecord, StoredBody } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { tempDir, T0 } from '../store/fixtures/records';
import { TextGenerator, seededRandom } from '../store/fixtures/synthetic-session';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const MB = 1024 * 1024;
const SMALL_SESSIONS = 2000;
/** Requests to an intercepted host that are not LLM calls: they make the log long, not the sessions. */
const TELEMETRY = 1000;
/** The most entries `log` shows (the store's page size). */
const LOG_LIMIT = 1000;
const BIG_SESSION = 'big-session-0000';
const LAST_WORDS = 'THE-VERY-LAST-WORDS-OF-THE-ANSWER';
const SYSTEM_END = 'THE-END-OF-THE-SYSTEM-PROMPT';
let bigSystemPrompt = '';

function json(value: unknown): StoredBody {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

/** A complete, non-streamed Anthropic Messages call on a session of its own. */
function messagesCall(id: number, session: string, system: string, prompt: string, answer: string): ExchangeRecord {
  const startedAt = T0 + id * 1000;
  return {
    id, connectionId: 1, method: 'POST', url: 'https://api.anthropic.com/v1/messages?beta=true', httpVersion: '1.1', kind: 'http',
    requestHeaders: [['content-type', 'application/json'], ['x-claude-code-session-id', session], ['user-agent', 'claude-cli/2.0.0 (external, cli)']],
    requestBody: json({ model: 'claude-sonnet-4-5', max_tokens: 32000, system, messages: [{ role: 'user', content: prompt }] }),
    startedAt,
    statusCode: 200,
    responseHeaders: [['content-type', 'application/json']],
    responseBody: json({ id: `msg_${id}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: answer }],
      stop_reason: 'end_turn', usage: { input_tokens: 1000 + id, output_tokens: 100 } }),
    responseStartedAt: startedAt + 100, endedAt: startedAt + 500, outcome: 'complete',
    errors: [],
  };
}

/** Telemetry with a long query string: a captured exchange that is no LLM call, and a long log line. */
function telemetry(id: number): ExchangeRecord {
  const startedAt = T0 + id * 1000;
  const query = Array.from({ length: 60 }, (_, i) => `field${i}=value-${id}-${i}`).join('&');
  return {
    id, connectionId: 1, method: 'POST', url: `https://api.anthropic.com/api/event_logging/batch?${query}`, httpVersion: '1.1', kind: 'http',
    requestHeaders: [['content-type', 'application/json']], requestBody: json({ events: [{ n: id }] }), startedAt,
    statusCode: 200, responseHeaders: [['content-type', 'application/json']], responseBody: json({ accepted: 1 }),
    responseStartedAt: startedAt + 10, endedAt: startedAt + 20, outcome: 'complete', errors: [],
  };
}

/** Many small sessions and telemetry (a long `sessions --json` and `log --json`) and one session of megabytes. */
async function buildStore(dataDir: string): Promise<void> {
  const text = new TextGenerator(seededRandom(42));
  const store = await CaptureStore.open({ dataDir, mode: 'writer' });
  try {
    store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, label: 'terminal 1', targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: T0 });
    const system = text.prose(2000);
    for (let i = 1; i <= SMALL_SESSIONS; i++) {
      store.exchangeUpdated(messagesCall(i, `small-session-${String(i).padStart(5, '0')}`, system, `Question ${i}: ${text.prose(100)}`, text.prose(200)));
    }
    for (let i = 1; i <= TELEMETRY; i++) store.exchangeUpdated(telemetry(SMALL_SESSIONS + i));
    bigSystemPrompt = `${text.prose(1.5 * MB)} ${SYSTEM_END}`;
    store.exchangeUpdated(messagesCall(SMALL_SESSIONS + TELEMETRY + 1, BIG_SESSION, bigSystemPrompt, text.prose(50_000), `${text.prose(1.5 * MB)} ${LAST_WORDS}`));
  } finally {
    await store.close();
  }
}

/** Runs the CLI with stdout on a pipe that is read slowly, so the pipe is full for a while. */
async function runSlowlyRead(args: string[], stopAfterBytes = Infinity): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  // 'close' comes after stderr has been read to its end as well.
  const exited = once(child, 'close');
  const stdout = await readSlowly(child.stdout, stopAfterBytes);
  const [code] = await exited;
  return { code: code as number | null, stdout, stderr };
}

/** Waits a while after the first chunk and between chunks; stops (and closes the pipe) after `limit` bytes. */
async function readSlowly(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    await delay(first ? 500 : 2);
    first = false;
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('output to a pipe', { timeout: 300_000 }, () => {
  const tmp = tempDir('llmc-pipe-output-');
  before(() => buildStore(tmp.dir));
  after(() => tmp.cleanup());

  test('sessions --json: every session, parsed whole', async () => {
    const r = await runSlowlyRead(['sessions', '--json', '--data-dir', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > MB, `only ${r.stdout.length} bytes`);
    const sessions = JSON.parse(r.stdout) as { id: string }[];
    assert.equal(sessions.length, SMALL_SESSIONS + 1);
  });

  test('log --json: the newest entries, parsed whole', async () => {
    const r = await runSlowlyRead(['log', '--json', '--limit', String(LOG_LIMIT), '--data-dir', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > MB, `only ${r.stdout.length} bytes`);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, LOG_LIMIT);
  });

  test('show --json: the whole session, parsed whole', async () => {
    const r = await runSlowlyRead(['show', BIG_SESSION, '--json', '--data-dir', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > MB, `only ${r.stdout.length} bytes`);
    const detail = JSON.parse(r.stdout) as { id: string; threads: { turns: { steps: { text?: string }[] }[] }[] };
    assert.equal(detail.id, BIG_SESSION);
    assert.ok(detail.threads[0].turns[0].steps.some((s) => s.text?.endsWith(LAST_WORDS)));
  });

  test('show --markdown: the transcript to its last words, the system prompt cut', async () => {
    const r = await runSlowlyRead(['show', BIG_SESSION, '--markdown', '--data-dir', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > MB, `only ${r.stdout.length} bytes`);
    assert.ok(r.stdout.endsWith(`${LAST_WORDS}\n`), `ends with ${JSON.stringify(r.stdout.slice(-80))}`);
    assert.match(r.stdout, /… \(\d+ more characters\)/);
    assert.ok(!r.stdout.includes(SYSTEM_END));
  });

  test('show --markdown --full: the whole system prompt too', async () => {
    const r = await runSlowlyRead(['show', BIG_SESSION, '--markdown', '--full', '--data-dir', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(bigSystemPrompt), 'the system prompt is whole');
    assert.ok(r.stdout.endsWith(`${LAST_WORDS}\n`), `ends with ${JSON.stringify(r.stdout.slice(-80))}`);
  });

  test('a reader that stops early (log | head -1) ends the command quietly', async () => {
    const r = await runSlowlyRead(['log', '--limit', String(LOG_LIMIT), '--data-dir', tmp.dir], 1);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});
