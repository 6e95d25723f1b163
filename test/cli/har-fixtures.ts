// HAR entries as other tools write them, and damaged copies of them, for the import tests.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from './cli-process';

// An hour ago; `base` moves it (retention counts an imported entry's age from its import).
const BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** A Chrome-like entry: an Anthropic call with a JSON body and all the usual fields. */
export function chromeEntry(n: number, base = BASE): Record<string, unknown> {
  return {
    startedDateTime: new Date(base + n * 1000).toISOString(), time: 12, cache: {}, connection: '443',
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 1, wait: 10, receive: 1 },
    request: {
      method: 'POST', url: `https://api.anthropic.com/v1/messages?n=${n}`, httpVersion: 'HTTP/1.1', cookies: [], headersSize: -1, bodySize: 2,
      headers: [{ name: 'content-type', value: 'application/json' }], queryString: [], postData: { mimeType: 'application/json', text: '{}' },
    },
    response: {
      status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headersSize: -1, bodySize: 2, redirectURL: '',
      headers: [{ name: 'content-type', value: 'application/json' }], content: { size: 2, mimeType: 'application/json', text: '{}' },
    },
  };
}

/** A Chrome-like WebSocket entry with one message each way. */
export function webSocketEntry(n: number): Record<string, unknown> {
  const entry = chromeEntry(n);
  return {
    ...entry, _resourceType: 'websocket',
    request: { ...(entry.request as object), method: 'GET', url: 'wss://api.openai.com/v1/responses', postData: undefined },
    response: { ...(entry.response as object), status: 101, statusText: 'Switching Protocols' },
    _webSocketMessages: [{ ...WS_MESSAGE }, { type: 'receive', time: BASE / 1000 + n + 0.5, opcode: 1, data: '{"type":"response.created"}' }],
  };
}

export const WS_MESSAGE = { type: 'send', time: BASE / 1000 + 0.25, opcode: 1, data: '{"type":"response.create"}' };

export const DELETE = Symbol('delete');

/** A copy of `entry` with the field at `path` (dots, as in the messages) replaced or deleted. */
export function withField(entry: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(entry);
  const keys = path.split('.');
  let at = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  if (value === DELETE) delete at[keys[keys.length - 1]];
  else at[keys[keys.length - 1]] = value;
  return copy;
}

export function harText(entries: unknown[], log: Record<string, unknown> = { version: '1.2', creator: { name: 'WebInspector', version: '537.36' } }): string {
  return JSON.stringify({ log: { ...log, entries } });
}

export function writeHar(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** A failure or a skip as the user sees it: our own words, never a JavaScript error or a stack. */
export function assertNoJavaScriptError(r: CliResult): void {
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, /TypeError|RangeError|SyntaxError|ReferenceError|Cannot read propert|undefined \(reading/, out.slice(0, 2000));
  assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${out.slice(0, 2000)}`);
}

/** The target data directory holds nothing of a store (or does not exist). */
export function assertNoStore(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  const names = readdirSync(dataDir).filter((n) => /^capture\.|^writer\.lock$/.test(n));
  assert.deepEqual(names, [], `store files left in ${dataDir}`);
}
