// Fuzz cases for HTTP exchanges through the proxy, drawn from a seeded Rng: mutated SSE streams,
// compressed bodies (broken, stacked, mislabelled, a bomb) and hostile JSON request bodies. Each
// case is what the client sends and what the scripted upstream answers; the runner checks that
// both sides get exactly the other's bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { Rng } from './rng';
import type { ScriptedResponse } from './scripted-upstream';

export type HttpCaseKind = 'sse' | 'compressed' | 'json-request';

export interface HttpFuzzCase {
  kind: HttpCaseKind;
  /** The mutations applied, for a failure message. */
  name: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestPieces: Buffer[];
  response: ScriptedResponse;
}

const STREAM = readFileSync(join(__dirname, '..', '..', 'fixtures', 'fuzz', 'anthropic-tool-stream.sse'));
const SSE_HEADERS: [string, string][] = [['content-type', 'text/event-stream; charset=utf-8'], ['cache-control', 'no-cache']];
const BASE_REQUEST = {
  model: 'claude-opus-4-8', max_tokens: 1024, stream: true, system: [{ type: 'text', text: 'You are a fuzz target.' }],
  tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello fuzz' }] }],
  metadata: { user_id: 'user_fuzz_account__session_00000000-0000-4000-8000-000000000000' },
};

/** A compression bomb: 192 MiB of zeros gzipped (about 190 KB), made once. */
let bomb: Buffer | undefined;
function compressionBomb(): Buffer {
  return (bomb ??= zlib.gzipSync(Buffer.alloc(192 * 1024 * 1024), { level: 9 }));
}

export function httpCase(rng: Rng, kind: HttpCaseKind, id: string): HttpFuzzCase {
  const base = { path: `/v1/messages?case=${id}`, requestHeaders: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } };
  const request = Buffer.from(JSON.stringify({ ...BASE_REQUEST, messages: [{ role: 'user', content: [{ type: 'text', text: `hello fuzz ${id}` }] }] }));
  if (kind === 'sse') {
    const { body, names, end } = mutatedStream(rng);
    return { kind, name: names.join('+'), ...base, requestPieces: [request], response: { status: 200, headers: SSE_HEADERS, pieces: rng.split(body, 16), end } };
  }
  if (kind === 'compressed') {
    const { body, encoding, names } = compressedBody(rng);
    const headers: [string, string][] = [...SSE_HEADERS, ...(encoding ? [['content-encoding', encoding] as [string, string]] : [])];
    return { kind, name: names.join('+'), ...base, requestPieces: [request], response: { status: 200, headers, pieces: rng.split(body, 8), end: 'clean' } };
  }
  const { body, headers, names } = hostileRequest(rng, id);
  return {
    kind, name: names.join('+'), ...base, requestHeaders: { ...base.requestHeaders, ...headers }, requestPieces: rng.split(body, 8),
    response: { status: 200, headers: SSE_HEADERS, pieces: rng.split(STREAM, 8), end: 'clean' },
  };
}

const SSE_MUTATIONS: Record<string, (rng: Rng, body: Buffer) => Buffer> = {
  crlf: (_rng, b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'),
  cr: (_rng, b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r'), 'latin1'),
  mixedEol: (rng, b) => Buffer.from(b.toString('latin1').replace(/\n/g, () => rng.pick(['\n', '\r', '\r\n'])), 'latin1'),
  invalidUtf8: (rng, b) => insert(rng, b, () => Buffer.from([rng.int(0x80, 0xff), rng.int(0xc0, 0xff)])),
  nul: (rng, b) => insert(rng, b, () => Buffer.from([0])),
  flips: (rng, b) => {
    const out = Buffer.from(b);
    for (let i = rng.int(1, 12); i > 0; i--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
    return out;
  },
  hugeLine: (rng, b) => insert(rng, b, () => Buffer.from(`\ndata: ${'x'.repeat(4 * 1024 * 1024)}\n\n`), 1),
  garbageEvent: (rng, b) => insert(rng, b, () => Buffer.from(`event: ${rng.pick(['unknown', '', 'error', 'message_start'])}\ndata: ${rng.pick(['{', 'null', '[]', '{"type":42}', '"x"', ''])}\n\n`), 2),
  duplicate: (rng, b) => {
    const events = b.toString('latin1').split('\n\n');
    const i = rng.int(0, events.length - 1);
    events.splice(i, 0, events[i]!);
    return Buffer.from(events.join('\n\n'), 'latin1');
  },
  cut: (rng, b) => b.subarray(0, rng.int(1, b.length - 1)),
};

function mutatedStream(rng: Rng): { body: Buffer; names: string[]; end: 'clean' | 'reset' } {
  let body: Buffer = STREAM;
  const names: string[] = [];
  const all = Object.keys(SSE_MUTATIONS);
  for (let i = rng.int(1, 3); i > 0; i--) {
    const name = rng.pick(all);
    // One 4 MB line per case is enough.
    if (name === 'hugeLine' && (names.includes(name) || !rng.chance(0.3))) continue;
    body = SSE_MUTATIONS[name]!(rng, body);
    names.push(name);
  }
  const end = names.includes('cut') && rng.chance(0.5) ? 'reset' : 'clean';
  return { body, names: names.length > 0 ? names : ['none'], end };
}

function insert(rng: Rng, body: Buffer, make: () => Buffer, times = rng.int(1, 6)): Buffer {
  let out = body;
  for (let i = 0; i < times; i++) {
    const at = rng.int(0, out.length);
    out = Buffer.concat([out.subarray(0, at), make(), out.subarray(at)]);
  }
  return out;
}

type Codec = 'gzip' | 'deflate' | 'br' | 'zstd';
const CODECS: Codec[] = ['gzip', 'deflate', 'br', 'zstd'];

function compress(codec: Codec, data: Buffer): Buffer {
  switch (codec) {
    case 'gzip': return zlib.gzipSync(data);
    case 'deflate': return zlib.deflateSync(data);
    case 'br': return zlib.brotliCompressSync(data);
    case 'zstd': return zlib.zstdCompressSync(data);
  }
}

function compressedBody(rng: Rng): { body: Buffer; encoding?: string; names: string[] } {
  const mode = rng.pick(['plain', 'truncated', 'corrupted', 'stacked', 'mislabelled', 'unknown', 'bomb', 'empty'] as const);
  const codec = rng.pick(CODECS);
  const packed = compress(codec, STREAM);
  switch (mode) {
    case 'plain': return { body: packed, encoding: codec, names: [mode, codec] };
    case 'truncated': return { body: packed.subarray(0, rng.int(0, packed.length - 1)), encoding: codec, names: [mode, codec] };
    case 'corrupted': {
      const out = Buffer.from(packed);
      for (let i = rng.int(1, 6); i > 0; i--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return { body: out, encoding: codec, names: [mode, codec] };
    }
    case 'stacked': {
      const second = rng.pick(CODECS);
      return { body: compress(second, packed), encoding: `${codec}, ${second}`, names: [mode, codec, second] };
    }
    case 'mislabelled': {
      const label = rng.pick(CODECS.filter((c) => c !== codec));
      return { body: packed, encoding: label, names: [mode, `${codec} as ${label}`] };
    }
    case 'unknown': return { body: packed, encoding: rng.pick(['x-custom', 'compress', 'identity, x-y']), names: [mode] };
    case 'bomb': return { body: compressionBomb(), encoding: 'gzip', names: [mode] };
    case 'empty': return { body: Buffer.alloc(0), encoding: codec, names: [mode, codec] };
  }
}

const DEEP = 100_000;
const REQUEST_MUTATIONS: Record<string, (rng: Rng, id: string) => Buffer> = {
  invalid: (rng, id) => {
    const text = Buffer.from(JSON.stringify({ ...BASE_REQUEST, id }));
    return rng.chance(0.5) ? text.subarray(0, rng.int(1, text.length - 2)) : Buffer.concat([text.subarray(0, 40), Buffer.from('}{,]'), text.subarray(40)]);
  },
  deep: (rng) => {
    const deep = rng.chance(0.5) ? `${'['.repeat(DEEP)}${']'.repeat(DEEP)}` : `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;
    const where = rng.pick(['metadata', 'tool_input', 'schema', 'content']);
    const text = JSON.stringify(BASE_REQUEST);
    if (where === 'metadata') return Buffer.from(text.replace('"metadata":{', `"metadata":{"deep":${deep},`));
    if (where === 'schema') return Buffer.from(text.replace('"input_schema":{', `"input_schema":{"deep":${deep},`));
    if (where === 'content') return Buffer.from(text.replace('"messages":[', `"messages":[{"role":"user","content":${deep}},`));
    return Buffer.from(text.replace('"messages":[', `"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"Bash","input":${deep}}]},`));
  },
  huge: () => Buffer.from(JSON.stringify({ ...BASE_REQUEST, messages: [{ role: 'user', content: 'y'.repeat(8 * 1024 * 1024) }] })),
  wrongTypes: (rng) => Buffer.from(JSON.stringify({
    ...BASE_REQUEST,
    [rng.pick(['messages', 'system', 'tools', 'model', 'max_tokens', 'metadata', 'stream'])]: rng.pick(['x', 42, null, true, [], {}, [1, 'a', null], { length: 3 }]),
  })),
  protoKeys: () => Buffer.from(JSON.stringify(BASE_REQUEST).replace('{', '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},')),
  duplicateKeys: () => Buffer.from(JSON.stringify(BASE_REQUEST).replace('{', '{"messages":"first","model":7,')),
  notJsonAtAll: (rng) => rng.bytes(rng.int(0, 4096)),
};

function hostileRequest(rng: Rng, id: string): { body: Buffer; headers: Record<string, string>; names: string[] } {
  const name = rng.pick(Object.keys(REQUEST_MUTATIONS));
  const body = REQUEST_MUTATIONS[name]!(rng, id);
  // Codex sends zstd request bodies; some cases are encoded (and one in ten encoded wrongly).
  if (rng.chance(0.25)) {
    const codec = rng.pick(CODECS);
    const packed = compress(codec, body);
    const label = rng.chance(0.1) ? rng.pick(CODECS) : codec;
    return { body: packed, headers: { 'content-encoding': label }, names: [name, `${codec} as ${label}`] };
  }
  return { body, headers: {}, names: [name] };
}
