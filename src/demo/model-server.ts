// The demo's stand-in for api.anthropic.com and api.openai.com, on 127.0.0.1 only: Messages
// requests answered with SSE (gzip when the client accepts it, as the real API does) and the
// Responses WebSocket answered frame by frame, both from the scripts. A request the script does
// not know gets the API's error shape, so a broken demo says what went wrong.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { anthropicEvents, sseText } from './anthropic-answer';
import { CLAUDE_REPLIES, TITLE, TITLE_USAGE } from './claude-script';
import { CODEX_REPLIES } from './codex-script';
import type { FakeUpstreamTls } from './fake-upstream-tls';
import { responsesEvents } from './responses-answer';

export interface ModelServer {
  port: number;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function startModelServer(tls: FakeUpstreamTls): Promise<ModelServer> {
  const server = createServer({ SNICallback: (name, cb) => cb(null, tls.contextFor(name)) }, (req, res) => {
    answerMessages(req, res).catch((e: Error) => res.destroy(e));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith('/v1/responses')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveResponses(ws));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    // Upgraded sockets are the WebSocket server's; the HTTP ones, kept alive or not, the server's.
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  return { port, close };
}

async function answerMessages(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const path = new URL(req.url ?? '/', 'https://api.anthropic.com').pathname;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    body = undefined;
  }
  if (req.method !== 'POST' || path !== '/v1/messages' || !isObject(body)) return sendError(res, 404, 'not_found_error', `no route ${req.method} ${path}`);
  const model = String(body.model);
  const id = `msg_01${Date.now().toString(36)}`;
  // Claude Code's title request asks for JSON with a `title` field, and does not stream.
  if (isObject(body.output_config) && body.output_config.format !== undefined) {
    const text = JSON.stringify({ title: TITLE });
    return sendJson(res, 200, { id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: TITLE_USAGE });
  }
  const reply = CLAUDE_REPLIES.get(anthropicCue(body));
  if (!reply) return sendError(res, 400, 'invalid_request_error', 'the demo model has no scripted answer to this request');
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_011${Date.now().toString(36)}`, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  const out = gzip ? createGzip() : res;
  if (gzip) out.pipe(res);
  for (const event of anthropicEvents(reply, model)) {
    out.write(sseText(event));
    // Each event leaves at once, as a stream should, instead of waiting for the compressor to fill up.
    if (gzip) await new Promise<void>((resolve) => (out as ReturnType<typeof createGzip>).flush(() => resolve()));
  }
  out.end();
}

/** The newest user turn's last block: a prompt's text, or `tool:<id>` for a tool result. */
function anthropicCue(body: Json): string {
  const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
  const last = messages.filter((m) => m.role === 'user').at(-1);
  if (typeof last?.content === 'string') return last.content;
  const block = Array.isArray(last?.content) ? last.content.filter(isObject).at(-1) : undefined;
  if (block?.type === 'tool_result') return `tool:${String(block.tool_use_id)}`;
  return String(block?.text ?? '');
}

function serveResponses(ws: WebSocket): void {
  // One response at a time, in order, as the real server answers a socket.
  let queue = Promise.resolve();
  ws.on('message', (data: RawData) => {
    let frame: unknown;
    try {
      frame = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch {
      frame = undefined;
    }
    const reply = isObject(frame) && frame.type === 'response.create' ? CODEX_REPLIES.get(responsesCue(frame)) : undefined;
    const events = reply && isObject(frame)
      ? responsesEvents(reply, String(frame.model))
      : [{ type: 'error', error: { type: 'invalid_request_error', message: 'the demo model has no scripted answer to this frame' } }];
    queue = queue.then(async () => {
      for (const e of events) {
        if (ws.readyState !== ws.OPEN) return;
        await new Promise<void>((resolve) => ws.send(JSON.stringify(e), () => resolve()));
      }
    });
  });
}

/** `prewarm`, the newest user text, or `tool:<call_id>` for a function call's output. */
function responsesCue(frame: Json): string {
  if (frame.generate === false) return 'prewarm';
  const input = Array.isArray(frame.input) ? frame.input.filter(isObject) : [];
  const last = input.at(-1);
  if (last?.type === 'function_call_output') return `tool:${String(last.call_id)}`;
  const parts = Array.isArray(last?.content) ? last.content.filter(isObject) : [];
  return String(parts.at(-1)?.text ?? '');
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { type: 'error', error: { type, message: `demo model: ${message}` } });
}
