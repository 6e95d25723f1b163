// OpenAI Responses over HTTP (POST …/v1/responses, chatgpt.com/backend-api/codex/responses):
// streamed as SSE or answered with one JSON response object.
import type { Dissector } from './dissector';
import {
  addNote, bodyProblems, bodyText, httpErrorMessage, noteUnknownFields, readJsonObject, beginHttpCall,
} from './exchange-reader';
import { asArray, asId, asString, type JsonRecord } from './json-value';
import type { LlmCall } from './llm-call';
import { inputMessages, RESPONSES_REQUEST_FIELDS, responsesSystem, responsesTools } from './openai-responses-items';
import { readWholeResponse, ResponsesStream } from './openai-responses-stream';
import { readSseEvents } from './stream-events';

/** The request half, shared with the WebSocket dissector (a `response.create` frame is the same body). */
export function readResponsesRequest(call: LlmCall, body: JsonRecord): void {
  const model = asString(body.model);
  if (model !== undefined) call.model = model;
  else call.errors.push('The request has no `model`.');
  const input = asArray(body.input);
  if (input) call.input = inputMessages(input, call.errors);
  else if (typeof body.input === 'string') call.input = [{ role: 'user', content: [{ type: 'text', text: body.input }] }];
  else if (body.generate !== false) call.errors.push('The request has no `input`, so it is not a Responses request that can be decoded.');
  call.tools = responsesTools(body);
  const system = responsesSystem(body, call.input);
  if (system !== undefined) call.system = system;
  const previous = asId(body.previous_response_id);
  if (previous !== undefined) call.identity.previousResponseId = previous;
  noteUnknownFields(call, body, RESPONSES_REQUEST_FIELDS);
}

export const dissectOpenAiResponses: Dissector = (input, match) => {
  const { exchange } = input;
  const { call, request, streamed } = beginHttpCall(input, 'openai-responses', match.provider);
  if (request) readResponsesRequest(call, request);

  const text = bodyText(exchange.responseBody);
  const http = httpErrorMessage(exchange.statusCode, text);
  if (streamed) {
    const { events, errors } = readSseEvents(exchange, input.sseEvents);
    call.errors.push(...errors);
    if (events.length === 0 && http) call.errors.push(http);
    const stream = new ResponsesStream(call);
    for (const event of events) stream.push(event);
    call.output = stream.output();
    if (events.length > 0 && !stream.terminal && exchange.endedAt !== undefined) {
      call.errors.push('The stream ended without response.completed: the response is incomplete.');
    }
  } else if (http) {
    call.errors.push(http);
  } else if (text.trim() !== '') {
    call.errors.push(...bodyProblems('response', exchange.responseBody));
    const body = readJsonObject(text, 'response body');
    if (!body.ok) call.errors.push(body.error);
    else {
      readWholeResponse(call, body.value);
      if (body.note) addNote(call, body.note);
    }
    if (exchange.responseStartedAt !== undefined) call.firstTokenAt = exchange.responseStartedAt;
  } else if (exchange.endedAt !== undefined) {
    call.errors.push('The response body is empty.');
  }
  return [{ call, request }];
};
