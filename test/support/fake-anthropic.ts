// A fake Anthropic Messages API for running the real Claude Code through the proxy.
// Event shapes follow what the real API sends (shared fixtures clients/claude/*/01-response.sse),
// because Claude Code is strict about them: a missing message_stop or signature breaks a turn.
// The script is the one the fixtures were captured with: a prompt containing TOOL gets a Bash
// tool call (with thinking first), a tool result gets `FAKE-FINAL: …`, anything else a greeting.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { FakePromptCache } from './fake-prompt-cache';
import { sseEvent, writeSse } from './sse';

export const ANTHROPIC_TEXT_ANSWER = 'Hello from the fake Anthropic server! (FAKE-TEXT-OK)';
export const TOOL_COMMAND = 'echo fake-tool-ok';
export const TOOL_MARKER = 'fake-tool-ok';
/** What the fake's subagent call asks the subagent: it runs the Bash tool. */
export const SUBAGENT_PROMPT = 'please TOOL run echo for the parent';
/**
 * The answer to a prompt containing MALICIOUS: markup and a link that would run script if a view
 * rendered captured text as HTML. Each payload sets `window.__llmCapturePwned`, which a test reads.
 */
export const MALICIOUS_ANSWER = [
  'FAKE-MALICIOUS: <img src=x onerror="window.__llmCapturePwned=1">',
  '<script>window.__llmCapturePwned=2</script>',
  '[click me](javascript:window.__llmCapturePwned=3) and <a href="javascript:window.__llmCapturePwned=4">raw link</a>',
].join('\n\n');

export interface RecordedApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, or undefined when there was none (or it was not JSON). */
  body: unknown;
  /** For a streamed answer: the SSE events written, each as its exact text, in order. */
  sseEvents?: string[];
}

export interface FakeApiServer {
  port: number;
  requests: RecordedApiRequest[];
  close(): Promise<void>;
}

type Block =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

interface Reply {
  blocks: Block[];
  stopReason: 'end_turn' | 'tool_use';
}

/** The usage of every answer: message_start reports output_tokens 1, message_delta this final count. */
export const ANTHROPIC_USAGE = { input_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 17 };

/** `promptCache`: report usage from a simulation of the prompt cache (fake-prompt-cache.ts) instead of ANTHROPIC_USAGE. */
export async function startFakeAnthropic(tls: { key: string; cert: string }, options: { promptCache?: boolean } = {}): Promise<FakeApiServer> {
  const requests: RecordedApiRequest[] = [];
  const cache = options.promptCache ? new FakePromptCache() : undefined;
  const server = createServer(tls, (req, res) => {
    handle(req, res, requests, cache).catch((e: unknown) => res.destroy(e as Error));
  });
  return listen(server, requests);
}

async function handle(req: IncomingMessage, res: ServerResponse, requests: RecordedApiRequest[], cache: FakePromptCache | undefined): Promise<void> {
  const body = await readJsonBody(req);
  const record: RecordedApiRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
  requests.push(record);
  const path = new URL(req.url ?? '/', 'https://api.anthropic.com').pathname;
  const requestId = `req_fake_${hex(12)}`;
  if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
    return sendJson(res, 200, { input_tokens: 1234 }, requestId);
  }
  if (req.method !== 'POST' || path !== '/v1/messages' || !isRecord(body)) {
    // Side calls (policy_limits, settings, event_logging…) get what a real miss gets.
    return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${req.method} ${path}` } }, requestId);
  }
  const reply = scriptReply(body);
  const usage = cache ? { ...cache.usage(body), output_tokens: ANTHROPIC_USAGE.output_tokens } : ANTHROPIC_USAGE;
  const model = typeof body.model === 'string' ? body.model : 'claude-fake';
  const message = { id: `msg_fake_${hex(12)}`, type: 'message', role: 'assistant', model, stop_sequence: null };
  if (body.stream !== true) {
    return sendJson(res, 200, { ...message, content: reply.blocks, stop_reason: reply.stopReason, usage }, requestId);
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'request-id': requestId });
  record.sseEvents = [
    sseEvent('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1, service_tier: 'standard' } } }),
    sseEvent('ping', { type: 'ping' }),
    ...reply.blocks.flatMap((block, index) => blockEvents(block, index)),
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
  await writeSse(res, record.sseEvents);
  res.end();
}

/** Decides the answer from the newest user turn only: earlier turns are history. */
function scriptReply(body: Record<string, unknown>): Reply {
  const messages = Array.isArray(body.messages) ? body.messages.filter(isRecord) : [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const content = Array.isArray(lastUser?.content) ? lastUser.content.filter(isRecord) : [{ type: 'text', text: String(lastUser?.content ?? '') }];
  const thinking: Block = { type: 'thinking', thinking: 'The user wants a short answer. I will comply.', signature: `fakesig_${randomBytes(16).toString('base64')}` };
  const result = content.find((b) => b.type === 'tool_result');
  if (result) {
    return { blocks: [thinking, { type: 'text', text: `FAKE-FINAL: the tool returned: ${toolResultText(result.content)}` }], stopReason: 'end_turn' };
  }
  // Claude Code prefixes the prompt with <system-reminder> blocks; only the user's own text counts.
  const said = (word: string) => content.some((b) => b.type === 'text' && typeof b.text === 'string' && !b.text.startsWith('<system-reminder>') && b.text.includes(word));
  if (said('MALICIOUS')) return { blocks: [{ type: 'text', text: MALICIOUS_ANSWER }], stopReason: 'end_turn' };
  // SUBAGENT: Claude Code's subagent tool (Agent, formerly Task) with a prompt that makes the subagent run the Bash tool.
  const spawner = Array.isArray(body.tools) ? body.tools.filter(isRecord).map((t) => t.name).find((n) => n === 'Agent' || n === 'Task') : undefined;
  if (said('SUBAGENT') && typeof spawner === 'string') {
    const call: Block = { type: 'tool_use', id: `toolu_${hex(12)}`, name: spawner, input: { description: 'Run the marker', prompt: SUBAGENT_PROMPT, subagent_type: 'general-purpose' } };
    return { blocks: [{ type: 'text', text: 'I will ask a subagent.' }, call], stopReason: 'tool_use' };
  }
  const asksForTool = said('TOOL');
  // Claude Code names its shell tool Bash, OpenCode bash; both take {command, description}.
  const bash = Array.isArray(body.tools) ? body.tools.filter(isRecord).map((t) => t.name).find((n) => n === 'Bash' || n === 'bash') : undefined;
  if (asksForTool && bash) {
    const call: Block = { type: 'tool_use', id: `toolu_${hex(12)}`, name: bash, input: { command: TOOL_COMMAND, description: 'Print a marker' } };
    return { blocks: [thinking, { type: 'text', text: 'I will run a command.' }, call], stopReason: 'tool_use' };
  }
  return { blocks: [{ type: 'text', text: asksForTool ? 'FAKE-NO-TOOL: the request offered no Bash tool' : ANTHROPIC_TEXT_ANSWER }], stopReason: 'end_turn' };
}

function blockEvents(block: Block, index: number): string[] {
  const delta = (d: Record<string, unknown>): string => sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: d });
  const start = (b: Record<string, unknown>): string => sseEvent('content_block_start', { type: 'content_block_start', index, content_block: b });
  const stop = sseEvent('content_block_stop', { type: 'content_block_stop', index });
  switch (block.type) {
    case 'thinking':
      return [start({ type: 'thinking', thinking: '', signature: '' }), delta({ type: 'thinking_delta', thinking: block.thinking }),
        delta({ type: 'signature_delta', signature: block.signature }), stop];
    case 'text':
      return [start({ type: 'text', text: '' }), ...words(block.text).map((text) => delta({ type: 'text_delta', text })), stop];
    case 'tool_use': {
      // The input arrives as JSON fragments that only parse once joined, as the real API sends it.
      const json = JSON.stringify(block.input);
      const cut = json.indexOf(',') + 1 || json.length >> 1;
      const fragments = ['', json.slice(0, cut), json.slice(cut)];
      return [start({ type: 'tool_use', id: block.id, name: block.name, input: {} }),
        ...fragments.map((partial_json) => delta({ type: 'input_json_delta', partial_json })), stop];
    }
  }
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (isRecord(b) && typeof b.text === 'string' ? b.text : JSON.stringify(b))).join('\n');
  return JSON.stringify(content);
}

/** Splits text into word-sized deltas, keeping each word's trailing space. */
export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let raw = Buffer.concat(chunks);
  if (raw.length === 0) return undefined;
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip') raw = gunzipSync(raw);
  else if (encoding === 'br') raw = brotliDecompressSync(raw);
  else if (encoding === 'deflate') raw = inflateSync(raw);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, requestId?: string): void {
  const out = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': out.length, ...(requestId ? { 'request-id': requestId } : {}) });
  res.end(out);
}

/** Listens on 127.0.0.1:0 and returns a handle whose close() also ends kept-alive sockets. */
export async function listen(server: import('node:https').Server, requests: RecordedApiRequest[]): Promise<FakeApiServer> {
  const sockets = new Set<Socket>();
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
