// OpenAI Responses over a WebSocket (Codex by default). One socket carries many calls in sequence:
// each runs from a client `response.create` frame to its `response.completed`, `response.failed`
// or `error`. The first is usually a prewarm (`generate: false`), and later frames carry
// `previous_response_id` with only the new input items, so a call's input is exactly what its
// frame sent; the assembler chains them through identity.previousResponseId / responseId.
// A span still open when the socket closed or ended is marked `unfinished`: that, not the way the
// socket closed (Codex never sends a close frame), is what makes the socket's end a failure.
import type { WsMessageRecord } from '../capture/records';
import type { DissectedCall, Dissector } from './dissector';
import { newCall, noteUnknown } from './exchange-reader';
import { asRecord, asString, isRecord, parseJson, preview, type JsonRecord } from './json-value';
import { readResponsesRequest } from './openai-responses';
import { ResponsesStream } from './openai-responses-stream';

interface Span {
  entry: DissectedCall;
  stream: ResponsesStream;
}

export const dissectOpenAiResponsesWebSocket: Dissector = (input, match) => {
  const { exchange } = input;
  const calls: DissectedCall[] = [];
  let open: Span | undefined;
  let closed = false;

  const start = (time: number, request: JsonRecord | undefined): Span => {
    const call = newCall(exchange, 'openai-responses', match.provider, 'websocket');
    call.id = `${exchange.id}:${calls.length}`;
    call.startedAt = time;
    delete call.endedAt;
    const entry: DissectedCall = { call };
    if (request) {
      entry.request = request;
      readResponsesRequest(call, request);
    }
    calls.push(entry);
    return { entry, stream: new ResponsesStream(call) };
  };
  const finish = (span: Span, time: number | undefined) => {
    span.entry.call.output = span.stream.output();
    if (time !== undefined) span.entry.call.endedAt = time;
  };
  // A chained frame sends only new items, so its first developer message is not the system prompt
  // (Codex with a custom provider sends the base instructions in the prewarm, the skills list after).
  // The prompt in force is the one of the call it continues, when that call is on this socket.
  // Explicit `instructions` in the frame still win.
  const inherit = (span: Span) => {
    const call = span.entry.call;
    const chained = call.identity.previousResponseId;
    if (chained === undefined || (asString(span.entry.request?.instructions) ?? '').trim() !== '') return;
    const previous = calls.find((c) => c.call.identity.responseId === chained)?.call;
    if (previous?.system !== undefined) call.system = previous.system;
  };
  const current = () => open?.entry.call ?? calls.at(-1)?.call;

  for (const message of [...(input.wsMessages ?? [])].sort((a, b) => a.seq - b.seq)) {
    if (message.opcode === 'ping' || message.opcode === 'pong') continue;
    if (message.opcode === 'close') {
      closed = true;
      if (open) {
        open.entry.call.errors.push(`The socket closed (${closeText(message)}) before the response completed.`);
        open.entry.call.unfinished = true;
        finish(open, message.time);
        open = undefined;
      }
      continue;
    }
    const frame = readFrame(message);
    if (typeof frame === 'string') {
      const target = current() ?? (open = start(message.time, undefined)).entry.call;
      target.errors.push(frame);
      continue;
    }
    const type = asString(frame.type) ?? '';
    if (message.direction === 'client-to-server') {
      if (type !== 'response.create') {
        const target = current();
        if (target) noteUnknown(target, 'events', `client:${type || '(untyped)'}`);
        continue;
      }
      if (open) {
        open.entry.call.errors.push('A new response.create was sent before this response completed.');
        finish(open, message.time);
      }
      // Some clients nest the body under `response` (the Realtime shape); Codex sends it flat.
      const nested = asRecord(frame.response);
      open = start(message.time, nested && frame.input === undefined ? nested : frame);
      inherit(open);
      continue;
    }
    if (!open) {
      open = start(message.time, undefined);
      open.entry.call.errors.push('Server events arrived with no response.create before them.');
    }
    open.stream.push({ time: message.time, name: type, data: frame });
    if (open.stream.terminal) {
      finish(open, message.time);
      open = undefined;
    }
  }
  if (open) {
    // Still streaming while the socket is live; once it has ended, the response never completed.
    if (closed || exchange.endedAt !== undefined) {
      open.entry.call.errors.push('The socket ended before the response completed.');
      open.entry.call.unfinished = true;
    }
    finish(open, undefined);
  }
  return calls;
};

/** A frame's JSON object, or a sentence saying why it is not one. */
function readFrame(message: WsMessageRecord): JsonRecord | string {
  const side = message.direction === 'client-to-server' ? 'client' : 'server';
  if (message.opcode === 'binary') return `A binary ${side} frame (${message.size} bytes) was not decoded.`;
  const text = message.data.toString('utf8');
  const parsed = parseJson(text);
  if (!parsed.ok) return `A ${side} frame is not valid JSON (${parsed.error}): ${preview(text)}`;
  if (!isRecord(parsed.value)) return `A ${side} frame is JSON but not an object: ${preview(text)}`;
  return parsed.value;
}

function closeText(message: WsMessageRecord): string {
  const text = message.data.toString('utf8').trim();
  return text === '' ? 'no close code' : text;
}
