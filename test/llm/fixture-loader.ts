// Builds the records capture would have stored (ExchangeRecord, SseEventRecord, WsMessageRecord)
// from the captured-traffic fixtures copied under test/fixtures/llm/wire (see
// /work/shared/fixtures/README.md for the formats). Times are synthetic where a fixture has none.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import type { ExchangeRecord, SseEventRecord, StoredBody, WsMessageRecord } from '../../src/capture/records';
import type { DissectInput } from '../../src/llm/dissector';

export const WIRE = join(__dirname, '..', 'fixtures', 'llm', 'wire');
export const EXPECTED = join(__dirname, '..', 'fixtures', 'llm', 'expected');

let nextId = 1;

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function storedBody(text: string): StoredBody {
  const data = Buffer.from(text, 'utf8');
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated: false };
}

/** Splits an SSE body by the WHATWG rules, as capture does while the response streams. */
export function splitSse(text: string, startTime: number): SseEventRecord[] {
  const out: SseEventRecord[] = [];
  const parser = createParser({
    onEvent: (message) => {
      const record: SseEventRecord = { seq: out.length, time: startTime + out.length, data: message.data };
      if (message.event !== undefined) record.event = message.event;
      if (message.id !== undefined) record.id = message.id;
      out.push(record);
    },
  });
  parser.feed(text);
  return out;
}

interface ClientRequestFile {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** `clients/<scenario>/<nn>-request.json` and its `<nn>-response.sse|json`. */
export function loadClientHttp(scenario: string, nn: string): DissectInput {
  const dir = join(WIRE, 'clients', scenario);
  const request = readJson<ClientRequestFile>(join(dir, `${nn}-request.json`));
  const files = readdirSync(dir);
  const responseFile = files.find((f) => f.startsWith(`${nn}-response.`));
  const id = nextId++;
  const startedAt = id * 10_000;
  const responseText = responseFile ? readFileSync(join(dir, responseFile), 'utf8') : '';
  const isSse = responseFile?.endsWith('.sse') ?? false;
  const sseEvents = isSse ? splitSse(responseText, startedAt + 100) : undefined;
  const exchange: ExchangeRecord = {
    id,
    connectionId: id,
    method: request.method,
    url: `https://${request.headers.host ?? 'unknown.invalid'}${request.url}`,
    httpVersion: '1.1',
    kind: isSse ? 'sse' : 'http',
    // The fakes answered 200 to every model request; the fixtures do not record the status.
    statusCode: 200,
    requestHeaders: Object.entries(request.headers),
    responseHeaders: [['content-type', isSse ? 'text/event-stream' : 'application/json']],
    requestBody: storedBody(typeof request.body === 'string' ? request.body : JSON.stringify(request.body)),
    responseBody: storedBody(responseText),
    startedAt,
    responseStartedAt: startedAt + 50,
    endedAt: startedAt + 100 + (sseEvents?.length ?? 0) + 1,
    outcome: 'complete',
    errors: [],
  };
  return sseEvents ? { exchange, sseEvents } : { exchange };
}

interface Handshake {
  ts: string;
  url: string;
  headers: Record<string, string>;
}

interface FrameLine {
  ts: string;
  dir: 'in' | 'out' | 'close';
  data?: unknown;
  code?: number;
  reason?: string;
}

/** `clients/<scenario>/ws-handshake-connN.json` plus `ws-frames-connN.jsonl` (dir `in` = client to server). */
export function loadClientWs(scenario: string, conn: number): DissectInput {
  const dir = join(WIRE, 'clients', scenario);
  const handshake = readJson<Handshake>(join(dir, `ws-handshake-conn${conn}.json`));
  const lines = readFileSync(join(dir, `ws-frames-conn${conn}.jsonl`), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const id = nextId++;
  const wsMessages = lines.map((line, seq): WsMessageRecord => {
    const frame = JSON.parse(line) as FrameLine;
    const text = frame.dir === 'close'
      ? `${frame.code ?? ''} ${frame.reason ?? ''}`.trim()
      : typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data);
    const data = Buffer.from(text, 'utf8');
    return {
      exchangeId: id,
      seq,
      time: Date.parse(frame.ts),
      direction: frame.dir === 'in' ? 'client-to-server' : 'server-to-client',
      opcode: frame.dir === 'close' ? 'close' : 'text',
      data,
      size: data.length,
    };
  });
  const startedAt = Date.parse(handshake.ts);
  const exchange: ExchangeRecord = {
    id,
    connectionId: id,
    method: 'GET',
    url: `https://${handshake.headers.host ?? 'unknown.invalid'}${handshake.url}`,
    httpVersion: '1.1',
    kind: 'websocket',
    statusCode: 101,
    requestHeaders: Object.entries(handshake.headers),
    responseHeaders: [['upgrade', 'websocket']],
    startedAt,
    responseStartedAt: startedAt,
    endedAt: wsMessages.at(-1)?.time ?? startedAt,
    outcome: 'complete',
    errors: [],
  };
  return { exchange, wsMessages };
}

interface SideRequestFile {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** `clients/<scenario>/side-requests.json`: the non-model calls, with no bodies recorded. */
export function loadSideRequests(scenario: string): DissectInput[] {
  const list = readJson<SideRequestFile[]>(join(WIRE, 'clients', scenario, 'side-requests.json'));
  return list.map((r) => {
    const id = nextId++;
    const exchange: ExchangeRecord = {
      id, connectionId: id, method: r.method, url: `https://${r.headers.host ?? 'unknown.invalid'}${r.url}`,
      httpVersion: '1.1', kind: 'http', statusCode: 404, requestHeaders: Object.entries(r.headers),
      startedAt: id * 10_000, endedAt: id * 10_000 + 5, outcome: 'complete', errors: [],
    };
    return { exchange };
  });
}

interface GreyproxyFile {
  id: number;
  url: string;
  method: string;
  request_headers?: string;
  request_body: string;
  response_headers?: string;
  response_body: string;
  response_content_type?: string;
  response_body_events?: { event?: string; data: string }[];
  status_code?: number;
  timestamp?: string;
  duration_ms?: number;
}

/** `{name: [values]}` as a JSON string → [name, value] pairs. */
function headerPairs(json: string | undefined): [string, string][] {
  if (!json) return [];
  const map = JSON.parse(json) as Record<string, string[]>;
  return Object.entries(map).flatMap(([name, values]) => values.map((v): [string, string] => [name, v]));
}

/** `greyproxy/<name>.json`: one exchange, response already decompressed, Anthropic SSE pre-split. */
export function loadGreyproxy(name: string): DissectInput {
  const file = readJson<GreyproxyFile>(join(WIRE, 'greyproxy', `${name}.json`));
  const id = nextId++;
  const startedAt = file.timestamp ? Date.parse(file.timestamp) : id * 10_000;
  const contentType = file.response_content_type ?? 'application/json';
  const isSse = contentType.includes('text/event-stream');
  const responseHeaders = headerPairs(file.response_headers);
  if (!responseHeaders.some(([n]) => n.toLowerCase() === 'content-type')) responseHeaders.push(['Content-Type', contentType]);
  const sseEvents = file.response_body_events
    ? file.response_body_events.map((e, seq): SseEventRecord => ({ seq, time: startedAt + 100 + seq, data: e.data, ...(e.event ? { event: e.event } : {}) }))
    : isSse ? splitSse(file.response_body, startedAt + 100) : undefined;
  const exchange: ExchangeRecord = {
    id,
    connectionId: id,
    method: file.method,
    url: file.url,
    httpVersion: '1.1',
    kind: isSse ? 'sse' : 'http',
    statusCode: file.status_code ?? 200,
    requestHeaders: headerPairs(file.request_headers),
    responseHeaders,
    requestBody: storedBody(file.request_body),
    responseBody: storedBody(file.response_body),
    startedAt,
    responseStartedAt: startedAt + 50,
    endedAt: startedAt + (file.duration_ms ?? 1000),
    outcome: 'complete',
    errors: [],
  };
  return sseEvents ? { exchange, sseEvents } : { exchange };
}

/** Every model-call fixture, named as in the expectation files: `clients/<scenario>/<nn>`, `…/ws-connN`, `greyproxy/<name>`. */
export function allModelFixtures(): { name: string; load: () => DissectInput }[] {
  const out: { name: string; load: () => DissectInput }[] = [];
  const clients = join(WIRE, 'clients');
  for (const client of readdirSync(clients).sort()) {
    for (const scenario of readdirSync(join(clients, client)).sort()) {
      const path = `${client}/${scenario}`;
      for (const f of readdirSync(join(clients, path)).sort()) {
        const http = /^(\d\d)-request\.json$/.exec(f);
        if (http) out.push({ name: `clients/${path}/${http[1]}`, load: () => loadClientHttp(path, http[1]!) });
        const ws = /^ws-frames-conn(\d+)\.jsonl$/.exec(f);
        if (ws) out.push({ name: `clients/${path}/ws-conn${ws[1]}`, load: () => loadClientWs(path, Number(ws[1])) });
      }
    }
  }
  for (const f of readdirSync(join(WIRE, 'greyproxy')).sort()) {
    if (f.endsWith('.json')) out.push({ name: `greyproxy/${f.slice(0, -5)}`, load: () => loadGreyproxy(f.slice(0, -5)) });
  }
  return out;
}

/** Scenarios that have a side-requests.json. */
export function sideRequestScenarios(): string[] {
  const clients = join(WIRE, 'clients');
  return readdirSync(clients).flatMap((client) => readdirSync(join(clients, client))
    .filter((s) => readdirSync(join(clients, client, s)).includes('side-requests.json'))
    .map((s) => `${client}/${s}`));
}
