// A fake OpenAI Responses API for running the real Codex CLI through the proxy, over both of
// its transports: POST /v1/responses answered with SSE, and GET /v1/responses upgraded to a
// permessage-deflate WebSocket where each `response.create` frame gets the same events as
// frames (shared fixtures clients/codex). Scripted like the fixtures: a prompt containing TOOL
// gets a shell call in whatever shape the request's tools ask for, a tool output gets
// `FAKE-FINAL: …`, anything else a greeting; a prewarm (`generate: false`) gets no output.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { hex, isRecord, listen, readJsonBody, sendJson, words, TOOL_COMMAND, type FakeApiServer } from './fake-anthropic';
import { sseEvent, writeSse } from './sse';

export const OPENAI_TEXT_ANSWER = 'Hello from the fake OpenAI server! (FAKE-TEXT-OK)';

export interface RecordedResponsesSocket {
  url: string;
  headers: IncomingHttpHeaders;
  /** Extensions negotiated on the fake's side of the connection, e.g. "permessage-deflate". */
  extensions: string;
  /** Text frames, parsed (`data`) and as they were (`text`): `in` from the client, `out` from this server. */
  frames: { dir: 'in' | 'out'; data: unknown; text: string }[];
}

/** One `response.create`, whichever transport carried it. */
export interface ResponsesCall {
  transport: 'http' | 'ws';
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The id of the response the fake answered with (what a follow-up's previous_response_id names). */
  responseId: string;
}

export interface FakeOpenAi extends FakeApiServer {
  sockets: RecordedResponsesSocket[];
  calls: ResponsesCall[];
  /** Read on every upgrade, so a test can change it between runs. */
  options: FakeOpenAiOptions;
}

export interface FakeOpenAiOptions {
  /** 'reject' answers every upgrade with 426, which makes Codex fall back to HTTP at once. */
  webSocket?: 'accept' | 'reject';
}

/** The usage of every response, the prewarm's included. */
export const OPENAI_USAGE = { input_tokens: 42, input_tokens_details: { cached_tokens: 0 }, output_tokens: 17, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 59 };

interface ToolSpec { type: string; name: string; namespace?: string }
type Event = Record<string, unknown> & { type: string };

export async function startFakeOpenAi(tls: { key: string; cert: string }, options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const calls: ResponsesCall[] = [];
  const sockets: RecordedResponsesSocket[] = [];
  const server = createServer(tls, (req, res) => {
    handleHttp(req, res, api, calls).catch((e: unknown) => res.destroy(e as Error));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (fake.options.webSocket === 'reject' || !req.url?.startsWith('/v1/responses')) {
      socket.end('HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, req, sockets, calls));
  });
  const api = await listen(server, []);
  const fake: FakeOpenAi = {
    ...api,
    sockets,
    calls,
    options: { ...options },
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await api.close();
    },
  };
  return fake;
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, api: FakeApiServer, calls: ResponsesCall[]): Promise<void> {
  const body = await readJsonBody(req);
  api.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const path = new URL(req.url ?? '/', 'https://api.openai.com').pathname;
  if (req.method !== 'POST' || path !== '/v1/responses' || !isRecord(body)) {
    return sendJson(res, 404, { error: { message: `fake: no route ${req.method} ${path}`, type: 'invalid_request_error', code: null } });
  }
  const events = responseEvents(body, collectTools(body));
  calls.push({ transport: 'http', headers: req.headers, body, responseId: responseIdOf(events) });
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'x-request-id': `req_${hex(12)}` });
  await writeSse(res, events.map((e) => sseEvent(e.type, e)));
  res.end();
}

function serveSocket(ws: WebSocket, req: IncomingMessage, sockets: RecordedResponsesSocket[], calls: ResponsesCall[]): void {
  const record: RecordedResponsesSocket = { url: req.url ?? '', headers: req.headers, extensions: ws.extensions, frames: [] };
  sockets.push(record);
  // Later frames chain on previous_response_id and may leave the tools out: remember them.
  let tools: ToolSpec[] = [];
  let queue = Promise.resolve();
  ws.on('error', () => undefined);
  ws.on('message', (data: RawData, binary: boolean) => {
    const text = (Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[])).toString('utf8');
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { unparsed: true, binary };
    }
    record.frames.push({ dir: 'in', data: frame, text });
    if (!isRecord(frame) || frame.type !== 'response.create') {
      send(ws, record, { type: 'error', error: { type: 'invalid_request_error', message: 'fake: expected response.create' } });
      return;
    }
    const offered = collectTools(frame);
    if (offered.length > 0) tools = offered;
    const events = responseEvents(frame, tools);
    calls.push({ transport: 'ws', headers: req.headers, body: frame, responseId: responseIdOf(events) });
    // Frames are answered one response at a time, in order, as the real server does.
    queue = queue.then(async () => {
      for (const e of events) {
        if (ws.readyState !== ws.OPEN) return;
        await send(ws, record, e);
      }
    });
  });
}

function send(ws: WebSocket, record: RecordedResponsesSocket, event: Event): Promise<void> {
  const text = JSON.stringify(event);
  record.frames.push({ dir: 'out', data: event, text });
  return new Promise((resolve) => ws.send(text, () => resolve()));
}

/** Top-level function tools plus the `additional_tools` items Codex's newer models get. */
function collectTools(body: Record<string, unknown>): ToolSpec[] {
  const out: ToolSpec[] = [];
  const add = (list: unknown, namespace?: string): void => {
    if (!Array.isArray(list)) return;
    for (const t of list.filter(isRecord)) {
      if (t.type === 'namespace') add(t.tools, String(t.name));
      else if (typeof t.name === 'string') out.push({ type: String(t.type), name: t.name, namespace });
    }
  };
  add(body.tools);
  if (Array.isArray(body.input)) for (const item of body.input.filter(isRecord)) if (item.type === 'additional_tools') add(item.tools);
  return out;
}

type OutputItem = Record<string, unknown> & { type: string; id: string };

function scriptOutput(body: Record<string, unknown>, tools: ToolSpec[]): OutputItem[] {
  if (body.generate === false) return [];
  const input = Array.isArray(body.input) ? body.input.filter(isRecord) : [];
  // The newest tool output or user message decides; HTTP requests resend the whole history.
  const last = [...input].reverse().find((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output' || (i.type === 'message' && i.role === 'user'));
  if (last && last.type !== 'message') return [message(`FAKE-FINAL: the tool returned: ${outputText(last.output)}`)];
  const texts = Array.isArray(last?.content) ? last.content.filter(isRecord).map((c) => String(c.text ?? '')) : [];
  if (!texts.some((t) => t.includes('TOOL'))) return [message(OPENAI_TEXT_ANSWER)];
  const callId = `call_${hex(12)}`;
  const fn = tools.find((t) => t.type === 'function' && (t.name === 'exec_command' || t.name === 'shell'));
  if (fn) {
    const args = fn.name === 'shell' ? { command: ['bash', '-lc', TOOL_COMMAND] } : { cmd: TOOL_COMMAND };
    return [{ type: 'function_call', id: `fc_${hex(12)}`, call_id: callId, name: fn.name, arguments: JSON.stringify(args), status: 'completed' }];
  }
  // Code mode: one custom `exec` tool whose input is JavaScript calling the nested tools.
  const exec = tools.find((t) => t.type === 'custom' && t.name === 'exec');
  if (exec) {
    const input = `const r = await tools.exec_command({ cmd: '${TOOL_COMMAND}' });\ntext(r);`;
    return [{ type: 'custom_tool_call', id: `ctc_${hex(12)}`, call_id: callId, namespace: exec.namespace, name: exec.name, input, status: 'completed' }];
  }
  return [message(`FAKE-NO-TOOL: offered ${tools.map((t) => t.name).join(', ') || 'nothing'}`)];
}

function message(text: string): OutputItem {
  return { type: 'message', id: `msg_${hex(12)}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
}

/** A tool output as the fake quotes it in its FAKE-FINAL answer. */
export function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : JSON.stringify(p))).join('\n');
  return JSON.stringify(output);
}

function responseEvents(body: Record<string, unknown>, tools: ToolSpec[]): Event[] {
  const output = scriptOutput(body, tools);
  const base = { id: `resp_${hex(12)}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model: body.model ?? 'gpt-fake' };
  const events: Event[] = [
    { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } },
    { type: 'response.in_progress', response: { ...base, status: 'in_progress', output: [] } },
    ...output.flatMap((item, i) => itemEvents(item, i)),
    { type: 'response.completed', response: { ...base, status: 'completed', output, usage: OPENAI_USAGE } },
  ];
  return events.map((e, sequence_number) => ({ ...e, sequence_number }));
}

function responseIdOf(events: Event[]): string {
  return String((events[0].response as { id: string }).id);
}

function itemEvents(item: OutputItem, output_index: number): Event[] {
  const at = { item_id: item.id, output_index };
  const added = { type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress' } };
  const done = { type: 'response.output_item.done', output_index, item };
  if (item.type === 'function_call') {
    const args = String(item.arguments);
    const half = args.length >> 1;
    return [{ ...added, item: { ...item, arguments: '', status: 'in_progress' } },
      { type: 'response.function_call_arguments.delta', ...at, delta: args.slice(0, half) },
      { type: 'response.function_call_arguments.delta', ...at, delta: args.slice(half) },
      { type: 'response.function_call_arguments.done', ...at, arguments: args }, done];
  }
  if (item.type === 'custom_tool_call') {
    const input = String(item.input);
    return [{ ...added, item: { ...item, input: '', status: 'in_progress' } },
      { type: 'response.custom_tool_call_input.delta', ...at, delta: input },
      { type: 'response.custom_tool_call_input.done', ...at, input }, done];
  }
  const text = String((item.content as { text: string }[])[0].text);
  const part = { ...at, content_index: 0 };
  return [{ ...added, item: { ...item, content: [], status: 'in_progress' } },
    { type: 'response.content_part.added', ...part, part: { type: 'output_text', text: '', annotations: [] } },
    ...words(text).map((delta) => ({ type: 'response.output_text.delta', ...part, delta })),
    { type: 'response.output_text.done', ...part, text },
    { type: 'response.content_part.done', ...part, part: { type: 'output_text', text, annotations: [] } }, done];
}
