// OpenAI Chat Completions: streamed as data-only SSE ending with `data: [DONE]` (comment lines such
// as OpenRouter's `: OPENROUTER PROCESSING` never reach us: SSE parsing drops them), or one JSON
// object, which OpenRouter may pad with leading whitespace.
import { toolCall } from './content-blocks';
import type { DissectInput, Dissector } from './dissector';
import {
  errorDetail, noteUnknown, noteUnknownFields, beginHttpCall,
  responseJsonToDissect,
} from './exchange-reader';
import { asArray, asNumber, asRecord, asString, recordsOf, type JsonRecord } from './json-value';
import type { ContentBlock, LlmCall } from './llm-call';
import {
  CHAT_REQUEST_FIELDS, chatContent, chatMessages, chatSystem, chatToolCall, chatTools, readChatUsage, reasoningOf,
} from './openai-chat-request';
import { streamEventsOf, type StreamEvent } from './stream-events';

export const dissectOpenAiChatCompletions: Dissector = (input, match) => {
  const { call, request, streamed } = beginHttpCall(input, 'openai-chat-completions', match.provider);
  if (request) readRequest(call, request);

  if (streamed) readStream(call, input);
  else readJsonResponse(call, input);
  return [{ call, request }];
};

function readRequest(call: LlmCall, body: JsonRecord): void {
  call.model = asString(body.model);
  if (call.model === undefined) call.errors.push('The request has no `model`.');
  const messages = asArray(body.messages);
  if (messages) call.input = chatMessages(messages, call.errors);
  else call.errors.push('The request has no `messages` array, so it is not a Chat Completions request that can be decoded.');
  call.tools = chatTools(body);
  const system = chatSystem(call.input);
  if (system !== undefined) call.system = system;
  noteUnknownFields(call, body, CHAT_REQUEST_FIELDS);
}

/** Joins one choice's deltas. Blocks keep the order in which their first delta arrived. */
class ChoiceJoiner {
  private reasoning = '';
  private text = '';
  private readonly tools = new Map<number, { id: string; name: string; args: string }>();
  private readonly order: string[] = [];

  constructor(private readonly call: LlmCall) {}

  push(choice: JsonRecord, event: StreamEvent): void {
    const delta = asRecord(choice.delta) ?? {};
    const reasoning = reasoningOf(delta);
    if (reasoning) this.reasoning = this.append('reasoning', this.reasoning, reasoning, event);
    const text = asString(delta.content) ?? asString(delta.refusal);
    if (text) this.text = this.append('text', this.text, text, event);
    for (const raw of recordsOf(delta.tool_calls)) {
      const index = asNumber(raw.index) ?? this.tools.size;
      const fn = asRecord(raw.function) ?? {};
      const tool = this.tools.get(index) ?? { id: '', name: '', args: '' };
      if (!this.tools.has(index)) {
        this.tools.set(index, tool);
        this.order.push(`tool:${index}`);
      }
      // The id and name come once, in the first fragment; some gateways repeat them in every one.
      tool.id ||= asString(raw.id) ?? '';
      tool.name ||= asString(fn.name) ?? '';
      tool.args += asString(fn.arguments) ?? '';
      this.call.firstTokenAt ??= event.time;
    }
    const finish = asString(choice.finish_reason);
    if (finish) this.call.stopReason = finish;
  }

  private append(key: string, current: string, more: string, event: StreamEvent): string {
    if (!this.order.includes(key)) this.order.push(key);
    this.call.firstTokenAt ??= event.time;
    return current + more;
  }

  blocks(): ContentBlock[] {
    return this.order.map((key): ContentBlock => {
      if (key === 'reasoning') return { type: 'thinking', text: this.reasoning };
      if (key === 'text') return { type: 'text', text: this.text };
      const tool = this.tools.get(Number(key.slice(5)));
      return toolCall(tool?.id ?? '', tool?.name ?? '', tool?.args ?? '', 'function');
    });
  }
}

function readStream(call: LlmCall, input: DissectInput): void {
  const events = streamEventsOf(call, input);
  if (events.length === 0) return;
  const joiner = new ChoiceJoiner(call);
  let done = false;
  for (const event of events) {
    if (event.done) {
      done = true;
      continue;
    }
    const chunk = event.data ?? {};
    if (chunk.error !== undefined) call.errors.push(`The stream reported an error: ${errorDetail(chunk) ?? JSON.stringify(chunk.error)}`);
    call.model ??= asString(chunk.model);
    call.responseModel ??= asString(chunk.model);
    for (const choice of recordsOf(chunk.choices)) {
      // Only the first choice is the conversation; `n > 1` is noted, not decoded.
      if ((asNumber(choice.index) ?? 0) !== 0) noteUnknown(call, 'events', `choice:${String(choice.index)}`);
      else joiner.push(choice, event);
    }
    const usage = readChatUsage(chunk.usage);
    if (usage) call.usage = usage;
  }
  call.output = joiner.blocks();
  if (!done && call.stopReason === undefined && input.exchange.endedAt !== undefined) {
    call.errors.push('The stream ended without a finish_reason or [DONE]: the response is incomplete.');
  }
}

function readJsonResponse(call: LlmCall, input: DissectInput): void {
  const { exchange } = input;
  const response = responseJsonToDissect(call, exchange);
  if (!response) return;
  const { body } = response;
  if (body.error !== undefined) call.errors.push(`The response is an error: ${errorDetail(body) ?? JSON.stringify(body.error)}`);
  call.model ??= asString(body.model);
  call.responseModel ??= asString(body.model);
  const choice = recordsOf(body.choices)[0];
  if (choice) {
    const message = asRecord(choice.message) ?? {};
    const reasoning = reasoningOf(message);
    call.output = [
      ...(reasoning ? [{ type: 'thinking', text: reasoning } as const] : []),
      ...chatContent(message.content),
      ...(asString(message.refusal) ? [{ type: 'text', text: String(message.refusal) } as const] : []),
      ...recordsOf(message.tool_calls).map(chatToolCall),
    ];
    const finish = asString(choice.finish_reason);
    if (finish) call.stopReason = finish;
  } else if (body.error === undefined) {
    call.errors.push('The response has no `choices`.');
  }
  const usage = readChatUsage(body.usage);
  if (usage) call.usage = usage;
}
