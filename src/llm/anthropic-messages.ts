// Anthropic Messages (Claude Code, OpenCode on Anthropic models): POST /v1/messages, streamed or
// not, and /v1/messages/count_tokens, which is a model call too (side 'count-tokens').
import {
  ANTHROPIC_REQUEST_FIELDS, anthropicBlock, anthropicMessages, anthropicSystem, anthropicTools,
} from './anthropic-request';
import { mergeUsage, readAnthropicStream } from './anthropic-stream';
import type { DissectInput, Dissector } from './dissector';
import {
  errorDetail, noteUnknownFields, beginHttpCall,
  responseJsonToDissect,
} from './exchange-reader';
import { asArray, asNumber, asString, type JsonRecord } from './json-value';
import type { LlmCall } from './llm-call';
import { streamEventsOf } from './stream-events';

export const dissectAnthropicMessages: Dissector = (input, match) => {
  const { call, request, streamed } = beginHttpCall(input, 'anthropic-messages', match.provider);
  if (request) readRequest(call, request);

  const countTokens = match.path.endsWith('/count_tokens');
  if (streamed) readStreamedResponse(call, input);
  else readJsonResponse(call, input, countTokens);
  return [{ call, request }];
};

function readRequest(call: LlmCall, body: JsonRecord): void {
  call.model = asString(body.model);
  if (call.model === undefined) call.errors.push('The request has no `model`.');
  const system = anthropicSystem(body.system);
  if (system !== undefined) call.system = system;
  call.tools = anthropicTools(body.tools);
  const messages = asArray(body.messages);
  if (messages) call.input = anthropicMessages(messages, call.errors);
  else call.errors.push('The request has no `messages` array, so it is not an Anthropic Messages request that can be decoded.');
  noteUnknownFields(call, body, ANTHROPIC_REQUEST_FIELDS);
}

function readStreamedResponse(call: LlmCall, input: DissectInput): void {
  const events = streamEventsOf(call, input);
  if (events.length === 0) return;
  readAnthropicStream(call, events);
}

function readJsonResponse(call: LlmCall, input: DissectInput, countTokens: boolean): void {
  const { exchange } = input;
  const response = responseJsonToDissect(call, exchange);
  if (!response) return;
  const { text, body } = response;
  if (body.type === 'error') {
    call.errors.push(`The response is an error: ${errorDetail(body) ?? text}`);
    return;
  }
  if (countTokens) {
    const tokens = asNumber(body.input_tokens);
    if (tokens !== undefined) call.usage = { inputTokens: tokens };
    else call.errors.push('The count_tokens response has no `input_tokens`.');
    return;
  }
  call.model ??= asString(body.model);
  call.responseModel ??= asString(body.model);
  const content = asArray(body.content);
  if (content) call.output = content.map(anthropicBlock);
  else call.errors.push('The response has no `content` array.');
  const stop = asString(body.stop_reason);
  if (stop !== undefined) call.stopReason = stop;
  mergeUsage(call, body.usage);
}
