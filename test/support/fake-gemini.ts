// A fake Gemini API (generativelanguage.googleapis.com) for running the real Gemini CLI through
// the proxy. Shapes follow the real API (shared fixtures greyproxy/gemini_*, WIRE.md):
// `:streamGenerateContent?alt=sse` answers with data-only SSE events separated by CRLF CRLF, each a
// whole GenerateContentResponse (candidates, usageMetadata, modelVersion, responseId);
// `:generateContent` with one such object; `:countTokens` with `totalTokens`.
// Scripted like fake-anthropic: a prompt containing TOOL gets a thought summary, then a
// `run_shell_command` functionCall carrying a thoughtSignature (as Gemini 3 sends them, and
// without an `id`, as the Gemini API sends them); a functionResponse gets `FAKE-FINAL: …`;
// anything else a greeting. The CLI's own JSON side requests (the model router's classifier, the
// next-speaker check) get an answer that fits their schema.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { hex, isRecord, listen, readJsonBody, sendJson, TOOL_COMMAND, words, type FakeApiServer } from './fake-anthropic';
import { writeSse } from './sse';

export const GEMINI_TEXT_ANSWER = 'Hello from the fake Gemini server! (FAKE-TEXT-OK)';
export const GEMINI_THOUGHT = '**Running the command**\n\nThe user wants me to run a command, so I will.';
/** The usage of every answer (each chunk repeats the running counts; the last one is final). */
export const GEMINI_USAGE = { promptTokenCount: 42, candidatesTokenCount: 17, thoughtsTokenCount: 5, totalTokenCount: 64 };

export interface GeminiCall {
  /** `streamGenerateContent`, `generateContent`, `countTokens`. */
  method: string;
  model: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** What the fake answered: the chunks (one for a JSON answer) and, when streamed, each SSE event's exact text. */
  chunks: Record<string, unknown>[];
  sseEvents?: string[];
}

export interface FakeGemini extends FakeApiServer {
  calls: GeminiCall[];
}

type Part = Record<string, unknown>;

export async function startFakeGemini(tls: { key: string; cert: string }): Promise<FakeGemini> {
  const calls: GeminiCall[] = [];
  const server = createServer(tls, (req, res) => {
    handle(req, res, api, calls).catch((e: unknown) => res.destroy(e as Error));
  });
  const api = await listen(server, []);
  return { ...api, calls };
}

async function handle(req: IncomingMessage, res: ServerResponse, api: FakeApiServer, calls: GeminiCall[]): Promise<void> {
  const body = await readJsonBody(req);
  api.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const url = new URL(req.url ?? '/', 'https://generativelanguage.googleapis.com');
  const route = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
  if (req.method !== 'POST' || !route || !isRecord(body)) {
    return sendJson(res, 404, { error: { code: 404, message: `fake: no route ${req.method} ${url.pathname}`, status: 'NOT_FOUND' } });
  }
  const model = decodeURIComponent(route[1]!);
  const method = route[2]!;
  const call: GeminiCall = { method, model, headers: req.headers, body, chunks: [] };
  calls.push(call);
  if (method === 'countTokens') {
    call.chunks = [{ totalTokens: 1234 }];
    return sendJson(res, 200, call.chunks[0]);
  }
  if (method !== 'generateContent' && method !== 'streamGenerateContent') {
    return sendJson(res, 404, { error: { code: 404, message: `fake: no method ${method}`, status: 'NOT_FOUND' } });
  }
  call.chunks = answerChunks(model, scriptParts(body));
  if (method === 'generateContent') return sendJson(res, 200, joinChunks(call.chunks));
  if (url.searchParams.get('alt') !== 'sse') {
    // Without alt=sse the API answers with one JSON array of the chunks.
    return sendJson(res, 200, call.chunks);
  }
  // The real API separates its data-only events with CRLF CRLF.
  call.sseEvents = call.chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Fake-Request': hex(6) });
  await writeSse(res, call.sseEvents);
  res.end();
}

/** The answer's parts, each group to be sent as its own chunk. */
function scriptParts(body: Record<string, unknown>): Part[][] {
  const json = structuredAnswer(body);
  if (json !== undefined) return [[{ text: JSON.stringify(json) }]];
  const contents = Array.isArray(body.contents) ? body.contents.filter(isRecord) : [];
  const last = contents[contents.length - 1];
  const parts = Array.isArray(last?.parts) ? last.parts.filter(isRecord) : [];
  const response = parts.find((p) => isRecord(p.functionResponse))?.functionResponse;
  if (isRecord(response)) {
    return textChunks(`FAKE-FINAL: the tool returned: ${toolOutput(response.response)}`);
  }
  const said = parts.some((p) => typeof p.text === 'string' && p.thought !== true && p.text.includes('TOOL'));
  if (said && offersTool(body, 'run_shell_command')) {
    return [
      [{ text: GEMINI_THOUGHT, thought: true }],
      [{ functionCall: { name: 'run_shell_command', args: { command: TOOL_COMMAND, description: 'Print a marker' } }, thoughtSignature: signature() }],
    ];
  }
  return textChunks(said ? 'FAKE-NO-TOOL: the request offered no run_shell_command' : GEMINI_TEXT_ANSWER);
}

/**
 * An answer streamed in two chunks of text, then (as Gemini 3 ends an answer) an empty text part
 * carrying the thought signature.
 */
function textChunks(text: string): Part[][] {
  const pieces = words(text);
  const half = Math.ceil(pieces.length / 2);
  return [[{ text: pieces.slice(0, half).join('') }], [{ text: pieces.slice(half).join('') }], [{ text: '', thoughtSignature: signature() }]];
}

function signature(): string {
  return Buffer.from(`fake-thought-signature-${hex(8)}`).toString('base64');
}

/**
 * The CLI's side requests ask for JSON with a schema: the model router's classifier wants
 * `model_choice`, the next-speaker check `next_speaker`. Answer them so the CLI goes on as a
 * user's would: the cheaper model, and the user's turn.
 */
function structuredAnswer(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const schema = config.responseJsonSchema ?? config.responseSchema;
  if (config.responseMimeType !== 'application/json' && schema === undefined) return undefined;
  const properties = isRecord(schema) && isRecord(schema.properties) ? Object.keys(schema.properties) : [];
  const answer: Record<string, unknown> = {};
  for (const key of properties) {
    if (key === 'model_choice') answer[key] = 'flash';
    else if (key === 'next_speaker') answer[key] = 'user';
    else if (key === 'complexity_score') answer[key] = 10;
    else answer[key] = 'fake: a short reason';
  }
  return answer;
}

function offersTool(body: Record<string, unknown>, name: string): boolean {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  return tools.some((t) => Array.isArray(t.functionDeclarations) && t.functionDeclarations.some((d) => isRecord(d) && d.name === name));
}

/** The CLI wraps a shell command's result as `{output: "…"}`. */
function toolOutput(response: unknown): string {
  if (isRecord(response) && typeof response.output === 'string') return response.output;
  return JSON.stringify(response);
}

function answerChunks(model: string, groups: Part[][]): Record<string, unknown>[] {
  const responseId = `fake_${hex(10)}`;
  return groups.map((parts, i) => {
    const last = i === groups.length - 1;
    const candidate = { content: { parts, role: 'model' }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 };
    return { candidates: [candidate], usageMetadata: GEMINI_USAGE, modelVersion: model, responseId };
  });
}

/** A non-streamed answer: the chunks' parts in one candidate. */
function joinChunks(chunks: Record<string, unknown>[]): Record<string, unknown> {
  const parts = chunks.flatMap((c) => ((c.candidates as { content: { parts: Part[] } }[])[0]?.content.parts ?? []));
  const last = chunks[chunks.length - 1] ?? {};
  return { ...last, candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }] };
}
