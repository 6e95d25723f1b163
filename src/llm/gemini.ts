// Google Gemini (Gemini CLI): POST /v1beta/models/<model>:generateContent, :streamGenerateContent
// (SSE with ?alt=sse, else one JSON array of chunks) and :countTokens. The model is in the URL.
// Every streamed chunk is a whole GenerateContentResponse whose parts continue the previous ones.
import type { DissectInput, Dissector } from './dissector';
import {
  errorDetail, noteUnknownFields, responseTextToDissect, beginHttpCall,
} from './exchange-reader';
import { asArray, asNumber, asRecord, asString, isRecord, parseJson, recordsOf, type JsonRecord } from './json-value';
import type { ContentBlock, LlmCall, Usage } from './llm-call';
import { GEMINI_REQUEST_FIELDS, geminiContents, geminiPart, geminiSystem, geminiTools, mergeFragments } from './gemini-parts';
import { streamEventsOf } from './stream-events';

/** `models/gemini-2.5-flash-lite:generateContent` → the model and the method. */
function geminiUrlParts(path: string): { model?: string; method?: string } {
  const match = /\/models\/([^/:]+):(\w+)$/.exec(path);
  if (!match) return {};
  return { model: decodeURIComponent(match[1] ?? ''), method: match[2] };
}

export const dissectGemini: Dissector = (input, match) => {
  const { call, request, streamed } = beginHttpCall(input, 'gemini', match.provider);
  const { model, method } = geminiUrlParts(match.path);
  if (model !== undefined) call.model = model;
  if (request) readRequest(call, request, method === 'countTokens');

  const chunks = streamed ? streamChunks(call, input) : jsonChunks(call, input);
  if (method === 'countTokens') readCount(call, chunks[0]);
  else readChunks(call, chunks);
  return [{ call, request }];
};

function readRequest(call: LlmCall, body: JsonRecord, countTokens: boolean): void {
  // countTokens may wrap a whole generateContent request.
  const inner = countTokens && isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
  const contents = asArray(inner.contents);
  if (contents) call.input = geminiContents(contents, call.errors);
  else call.errors.push('The request has no `contents` array, so it is not a Gemini request that can be decoded.');
  const system = geminiSystem(inner);
  if (system !== undefined) call.system = system;
  call.tools = geminiTools(inner.tools);
  noteUnknownFields(call, body, GEMINI_REQUEST_FIELDS);
}

interface Chunk {
  time: number;
  data: JsonRecord;
}

function streamChunks(call: LlmCall, input: DissectInput): Chunk[] {
  return streamEventsOf(call, input).flatMap((e) => (e.data ? [{ time: e.time, data: e.data }] : []));
}

function jsonChunks(call: LlmCall, input: DissectInput): Chunk[] {
  const { exchange } = input;
  const text = responseTextToDissect(call, exchange);
  if (text === undefined) return [];
  const parsed = parseJson(text);
  if (!parsed.ok) {
    call.errors.push(`The response body is not valid JSON (${parsed.error}).`);
    return [];
  }
  const time = exchange.responseStartedAt ?? exchange.startedAt;
  // streamGenerateContent without alt=sse answers with a JSON array of chunks.
  const list = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  return list.filter(isRecord).map((data) => ({ time, data }));
}

function readChunks(call: LlmCall, chunks: Chunk[]): void {
  const blocks: ContentBlock[] = [];
  const citations: unknown[] = [];
  for (const { time, data } of chunks) {
    if (data.error !== undefined) call.errors.push(`The response is an error: ${errorDetail(data) ?? JSON.stringify(data.error)}`);
    const blocked = asString(asRecord(data.promptFeedback)?.blockReason);
    if (blocked) call.errors.push(`The prompt was blocked: ${blocked}.`);
    call.model ??= asString(data.modelVersion);
    call.responseModel ??= asString(data.modelVersion);
    const usage = readUsage(data.usageMetadata);
    if (usage) call.usage = usage;
    const candidate = recordsOf(data.candidates)[0];
    if (!candidate) continue;
    const parts = recordsOf(asRecord(candidate.content)?.parts);
    if (parts.length > 0) call.firstTokenAt ??= time;
    blocks.push(...parts.flatMap(geminiPart));
    const finish = asString(candidate.finishReason);
    if (finish) call.stopReason = finish;
    citations.push(...(asArray(asRecord(candidate.citationMetadata)?.citations) ?? []));
  }
  call.output = mergeFragments(blocks);
  // Citations come per candidate, not per part; they belong to the answer's text.
  const lastText = [...call.output].reverse().find((b) => b.type === 'text');
  if (lastText?.type === 'text' && citations.length > 0) lastText.citations = citations;
}

function readCount(call: LlmCall, chunk: Chunk | undefined): void {
  if (!chunk) return;
  const total = asNumber(chunk.data.totalTokens);
  if (total === undefined) {
    call.errors.push('The countTokens response has no `totalTokens`.');
    return;
  }
  call.usage = { inputTokens: total };
  const cached = asNumber(chunk.data.cachedContentTokenCount);
  if (cached !== undefined) call.usage.cacheReadTokens = cached;
}

function readUsage(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  const usage: Usage = {};
  const entries: [keyof Usage, unknown][] = [
    ['inputTokens', raw.promptTokenCount],
    ['outputTokens', raw.candidatesTokenCount],
    ['cacheReadTokens', raw.cachedContentTokenCount],
    ['reasoningTokens', raw.thoughtsTokenCount],
  ];
  for (const [key, value] of entries) {
    const n = asNumber(value);
    if (n !== undefined) usage[key] = n;
  }
  return usage;
}
