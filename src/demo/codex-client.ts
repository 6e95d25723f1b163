// A scripted client that speaks like `codex exec` on its default provider: one WebSocket to
// wss://api.openai.com/v1/responses with permessage-deflate and Codex's identity headers, a
// prewarm frame (`generate: false`), the prompt, and, after the model's `exec_command` call, only
// the call's output, chained with `previous_response_id` as Codex does.
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { withPlainRequests } from '../proxy/plain-request';
import {
  CODEX_ENVIRONMENT, CODEX_INSTRUCTIONS, CODEX_MODEL, CODEX_PROMPT, CODEX_TOOL_OUTPUT, CODEX_TOOLS, CODEX_VERSION, DEMO_OPENAI_KEY,
} from './codex-script';
import { agentThroughProxy, type ProxyEndpoint } from './proxy-tunnel';

type Json = Record<string, unknown>;
const HOST = 'api.openai.com';
const LABEL = 'demo-codex';

/** Runs the Codex-like session over one WebSocket; returns its session id. */
export async function runCodexLike(proxy: ProxyEndpoint): Promise<string> {
  const sessionId = randomUUID();
  const installation = randomUUID();
  const turnId = randomUUID();
  const metadata = (kind: 'prewarm' | 'turn', turn: string): string => JSON.stringify({
    installation_id: installation, session_id: sessionId, thread_id: sessionId, turn_id: turn, window_id: `${sessionId}:0`,
    request_kind: kind, history_initialization: 'new', thread_source: 'user', sandbox: 'seccomp', model: CODEX_MODEL, reasoning_effort: 'medium',
  });
  const agent = await agentThroughProxy(proxy, LABEL, HOST);
  const ws = withPlainRequests(() => new WebSocket(`wss://${HOST}/v1/responses`, {
    agent, perMessageDeflate: true,
    headers: {
      authorization: `Bearer ${DEMO_OPENAI_KEY}`, originator: 'codex_exec', 'openai-beta': 'responses_websockets=2026-02-06',
      'user-agent': `codex_exec/${CODEX_VERSION} (Debian 12.0.0; x86_64) dumb (codex_exec; ${CODEX_VERSION})`,
      'x-codex-turn-metadata': metadata('prewarm', ''), 'x-client-request-id': sessionId,
      'session-id': sessionId, 'thread-id': sessionId, 'x-codex-window-id': `${sessionId}:0`,
    },
  }));
  const socket = new ResponsesSocket(ws);
  try {
    await socket.opened();
    const frame = (input: Json[], extra: Json): Json => ({
      type: 'response.create', model: CODEX_MODEL, stream: true, instructions: '', input, tools: CODEX_TOOLS, tool_choice: 'auto',
      parallel_tool_calls: true, reasoning: { effort: 'medium', summary: 'auto' }, store: false, include: ['reasoning.encrypted_content'],
      prompt_cache_key: sessionId, ...extra,
    });
    const message = (role: string, text: string): Json => ({ type: 'message', role, content: [{ type: 'input_text', text }] });
    const turnMetadata = { session_id: sessionId, thread_id: sessionId, turn_id: turnId, 'x-codex-turn-metadata': metadata('turn', turnId) };
    const prewarm = await socket.create(frame([message('developer', CODEX_INSTRUCTIONS)],
      { generate: false, client_metadata: { session_id: sessionId, thread_id: sessionId, turn_id: '', 'x-codex-turn-metadata': metadata('prewarm', '') } }));
    const asked = await socket.create(frame([message('user', CODEX_ENVIRONMENT), message('user', CODEX_PROMPT)],
      { previous_response_id: prewarm.id, client_metadata: turnMetadata }));
    const calls = (asked.output as Json[]).filter((item) => item.type === 'function_call');
    // Codex sends back only the outputs: the call itself is in the chained response.
    const outputs = calls.map((call) => ({ type: 'function_call_output', id: `fco_${randomBytes(12).toString('hex')}`, call_id: call.call_id, output: CODEX_TOOL_OUTPUT }));
    await socket.create(frame(outputs, { previous_response_id: asked.id, client_metadata: turnMetadata }));
  } finally {
    await socket.close();
  }
  return sessionId;
}

/** A Responses WebSocket: one `response.create` at a time, resolved with its completed response. */
class ResponsesSocket {
  private waiting: { resolve: (response: Json) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onEvent(JSON.parse(data.toString()) as Json));
    ws.on('error', (e) => this.fail(e));
    ws.on('close', () => this.fail(new Error('the WebSocket closed before the response completed')));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`the WebSocket upgrade was answered with ${res.statusCode}`)));
    });
  }

  create(frame: Json): Promise<Json> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.ws.send(JSON.stringify(frame));
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close(1000);
    await closed;
  }

  private onEvent(event: Json): void {
    const waiting = this.waiting;
    if (event.type === 'response.completed' && waiting) {
      this.waiting = undefined;
      waiting.resolve(event.response as Json);
    } else if (event.type === 'error' || event.type === 'response.failed') {
      this.fail(new Error(`the model answered with ${event.type}: ${JSON.stringify(event.error ?? event.response)}`));
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(e);
  }
}
