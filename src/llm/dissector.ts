// The contract between the entry point and the per-API dissectors.
import type { ExchangeRecord, SseEventRecord, WsMessageRecord } from '../capture/records';
import type { JsonRecord } from './json-value';
import type { LlmCall } from './llm-call';
import type { RouteMatch } from './routing';

export interface DissectInput {
  exchange: ExchangeRecord;
  sseEvents?: SseEventRecord[];
  wsMessages?: WsMessageRecord[];
}

/**
 * One decoded call plus what the shared steps after it (client, identity, side request) read:
 * the request JSON as sent, which for a WebSocket is the `response.create` frame, not the handshake.
 */
export interface DissectedCall {
  call: LlmCall;
  request?: JsonRecord;
}

export type Dissector = (input: DissectInput, match: RouteMatch) => DissectedCall[];
