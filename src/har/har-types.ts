// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) with the extensions we read and write:
// Chrome DevTools' `_webSocketMessages` and `_resourceType`, and our own `_llmCapture` block, which
// carries what HAR has no field for so that our own exports import back without loss.
// An imported entry is normalized to these types by har-validation.ts, where -1 stands for an
// unknown time or size (as in HAR's timings) and an entry without a response has status 0.
import type { ExchangeKind, ExchangeRecord } from '../capture/records';

export interface HarNameValue {
  name: string;
  value: string;
  comment?: string;
}

export interface HarPostData {
  mimeType: string;
  text?: string;
  /** Not in HAR 1.2; set to 'base64' by us (and by some tools) for a binary body. */
  _encoding?: string;
  params?: HarNameValue[];
}

export interface HarContent {
  size: number;
  compression?: number;
  mimeType: string;
  text?: string;
  encoding?: string;
}

export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  /** Seconds since the epoch. */
  time: number;
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong (RFC 6455 §5.2). */
  opcode: number;
  data: string;
}

export interface LlmCaptureBodyMeta {
  wireSize: number;
  encoding: string;
  decoded: boolean;
  truncated: boolean;
  error?: string;
  base64?: boolean;
}

export interface LlmCaptureEntryExtras {
  exchangeId: number;
  connectionId: number;
  kind: ExchangeKind;
  outcome?: NonNullable<ExchangeRecord['outcome']>;
  errors: string[];
  label?: string;
  requestBody?: LlmCaptureBodyMeta;
  responseBody?: LlmCaptureBodyMeta;
  times: { startedAt: number; requestEndedAt?: number; responseStartedAt?: number; endedAt?: number };
  /** Binary WebSocket payloads are base64 in `data`. */
  wsBase64?: number[];
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: unknown[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: HarPostData;
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: unknown[];
    headers: HarNameValue[];
    content: HarContent;
    redirectURL: string;
    headersSize: number;
    bodySize: number;
    _error?: string;
  };
  cache: Record<string, unknown>;
  timings: { blocked?: number; dns?: number; connect?: number; ssl?: number; send: number; wait: number; receive: number };
  serverIPAddress?: string;
  connection?: string;
  _resourceType?: string;
  _webSocketMessages?: HarWebSocketMessage[];
  _llmCapture?: LlmCaptureEntryExtras;
}

export interface Har {
  log: {
    version: string;
    creator: { name: string; version: string };
    pages?: unknown[];
    entries: HarEntry[];
  };
}
