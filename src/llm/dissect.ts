// The entry point: one captured exchange in, its LLM calls out (none for a non-model exchange,
// several for a WebSocket that carried several responses). The per-API dissectors decode the wire;
// the steps shared by all of them (client, identity, side request) run here afterwards.
import { dissectAnthropicMessages } from './anthropic-messages';
import { detectClient } from './clients';
import type { DissectedCall, DissectInput, Dissector } from './dissector';
import { HeaderMap, newCall } from './exchange-reader';
import { dissectGemini } from './gemini';
import { readIdentity } from './identity';
import type { ApiKind, LlmCall } from './llm-call';
import { dissectOpenAiChatCompletions } from './openai-chat-completions';
import { dissectOpenAiResponses } from './openai-responses';
import { dissectOpenAiResponsesWebSocket } from './openai-responses-websocket';
import { DEFAULT_ROUTES, matchRoute, type Route, type RouteMatch } from './routing';
import { readRequestOptions } from './request-options';
import { classifySide } from './side-requests';

const HTTP_DISSECTORS: Record<ApiKind, Dissector> = {
  'anthropic-messages': dissectAnthropicMessages,
  'openai-responses': dissectOpenAiResponses,
  'openai-chat-completions': dissectOpenAiChatCompletions,
  gemini: dissectGemini,
};

const WEBSOCKET_DISSECTORS: Partial<Record<ApiKind, Dissector>> = {
  'openai-responses': dissectOpenAiResponsesWebSocket,
};

/**
 * Decodes one exchange. Never throws: every problem is a sentence in the call's `errors`.
 * `routes` replaces the default table; use `withDefaultRoutes(extra)` to add to it.
 */
export function dissectExchange(input: DissectInput, routes: readonly Route[] = DEFAULT_ROUTES): LlmCall[] {
  const match = matchRoute(input.exchange, routes);
  if (!match) return [];
  const api = match.route.api;
  const websocket = input.exchange.kind === 'websocket';
  const dissector = websocket ? WEBSOCKET_DISSECTORS[api] : HTTP_DISSECTORS[api];
  if (!dissector) {
    const call = fallbackCall(input, match);
    call.errors.push(`WebSocket traffic for the ${api} API is not decoded.`);
    return [call];
  }
  let dissected: DissectedCall[];
  try {
    dissected = dissector(input, match);
  } catch (e) {
    // A decoder bug must cost one call's detail, not the caller's loop over the store.
    const call = fallbackCall(input, match);
    call.errors.push(`The ${api} dissector failed: ${e instanceof Error ? e.message : String(e)}`);
    dissected = [{ call }];
  }
  const headers = new HeaderMap(input.exchange.requestHeaders);
  return dissected.map(({ call, request }) => {
    try {
      call.client = detectClient(headers, call, request);
      call.identity = readIdentity(call, headers, request);
      const side = classifySide(call, headers, request);
      if (side !== undefined) call.side = side;
      if (request) readRequestOptions(call, request);
    } catch (e) {
      call.errors.push(`Reading the client and identity failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Capture may report one problem both on the exchange and on its body; say it once.
    call.errors = [...new Set(call.errors)];
    return call;
  });
}

function fallbackCall(input: DissectInput, match: RouteMatch): LlmCall {
  const { exchange } = input;
  const transport = exchange.kind === 'websocket' ? 'websocket' : exchange.kind === 'sse' ? 'sse' : 'http';
  return newCall(exchange, match.route.api, match.provider, transport);
}
