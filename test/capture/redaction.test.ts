// Secrets never reach the sink. A fake key is placed everywhere the brief names, every sink call
// is serialized (strings and bytes), and the key must not appear anywhere in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { TapEvent } from '../../src/proxy/tap';
import { Redactor, redactionMarker } from '../../src/capture/redaction';
import { harness, TapScript } from './capture-harness';

const KEY = 'sk-ant-FAKEKEY0123456789abcdefXYZ';
const OTHER = 'ya29.OTHERTOKEN-9876543210zyxw';
const MARK = `[REDACTED:${createHash('sha256').update(KEY).digest('hex').slice(0, 8)}]`;

test('the marker is the first 8 hex digits of the SHA-256 of the secret', () => {
  assert.equal(redactionMarker(KEY), MARK);
  assert.notEqual(redactionMarker(OTHER), MARK);
});

test('headers: every sensitive name, the scheme word kept, cookie names kept, others untouched', () => {
  const r = new Redactor();
  const pairs = r.headers([
    'Authorization', `Bearer ${KEY}`, 'Proxy-Authorization', `Basic ${KEY}`, 'x-api-key', KEY,
    'Cookie', `session=${KEY}; theme=dark`, 'Set-Cookie', `sid=${KEY}; Path=/; HttpOnly`, 'X-Goog-Api-Key', KEY,
    'Content-Type', 'application/json',
  ]);
  assert.deepEqual(pairs, [
    ['Authorization', `Bearer ${MARK}`], ['Proxy-Authorization', `Basic ${MARK}`], ['x-api-key', MARK],
    ['Cookie', `session=${MARK}; theme=${redactionMarker('dark')}`], ['Set-Cookie', `sid=${MARK}; Path=/; HttpOnly`],
    ['X-Goog-Api-Key', MARK], ['Content-Type', 'application/json'],
  ]);
  const custom = new Redactor({ headers: ['X-My-Secret'] });
  assert.equal(custom.headerValue('x-my-secret', KEY), MARK);
});

test('query strings: key=, api_key= and the like; other parameters and bytes stay', () => {
  const r = new Redactor({ fields: ['my_param'] });
  assert.equal(r.url(`https://g.test/v1beta/models/x:streamGenerateContent?alt=sse&key=${KEY}`),
    `https://g.test/v1beta/models/x:streamGenerateContent?alt=sse&key=${MARK}`);
  assert.equal(r.url(`https://a.test/p?api_key=${KEY}&access_token=${OTHER}&beta=true&my_param=${KEY}`),
    `https://a.test/p?api_key=${MARK}&access_token=${redactionMarker(OTHER)}&beta=true&my_param=${MARK}`);
  assert.equal(r.url(`https://user:${KEY}@a.test/`), `https://user:${MARK}@a.test/`);
  assert.equal(r.url('https://a.test/v1/messages?beta=true'), 'https://a.test/v1/messages?beta=true');
});

test('JSON: token fields at any depth, camelCase too, and JSON inside a JSON string; other bytes exact', () => {
  const r = new Redactor({ fields: ['customSecretField'] });
  const text = `{ "a": 1.50, "deep": [{"x": {"access_token" : "${KEY}", "refreshToken":"${OTHER}"}}],\n` +
    `  "args": "{\\"id_token\\": \\"${KEY}\\"}", "customSecretField": "${KEY}", "max_tokens": 5, "token": "logprob token" }`;
  const out = r.jsonText(text);
  assert.ok(!out.includes(KEY) && !out.includes(OTHER));
  assert.equal(out, `{ "a": 1.50, "deep": [{"x": {"access_token" : "${MARK}", "refreshToken":"${redactionMarker(OTHER)}"}}],\n` +
    `  "args": "{\\"id_token\\": \\"${MARK}\\"}", "customSecretField": "${MARK}", "max_tokens": 5, "token": "logprob token" }`);
  assert.equal(r.jsonText(out), out, 'redacting twice changes nothing');
});

test('JSON held in strings, at any depth and however it is spaced or escaped, has its secrets redacted', () => {
  // A new Redactor for each body: one that has seen the key would replace its copies anyway.
  const redact = (text: string) => new Redactor().body(Buffer.from(text), 'application/json').toString();
  const nest = (text: string, depth: number): string => (depth === 0 ? text : nest(JSON.stringify(text), depth - 1));
  const inner = [
    `{"access_token": "${KEY}"}`, `{"api__key":"${KEY}"}`, `{"Client-Secret" :"${KEY}"}`, `{"x": 1, "refreshToken"\t:\n "${KEY}"}`,
    `{"code": "a: b", "password": "${KEY}"}`, `{"\u0061pi_key": "${KEY}"}`,
  ];
  for (const doc of inner) {
    for (let depth = 1; depth <= 3; depth++) {
      const text = `{"pad": "x: \\"y\\"", "args": ${nest(JSON.parse(JSON.stringify(doc)), depth)}}`;
      const out = redact(text);
      assert.ok(!out.includes(KEY), `depth ${depth}: ${text} -> ${out}`);
    }
  }
  // Whitespace spelled as a \u escape between a nested key and its colon.
  const spaced = `{"args": "{\\"id_token\\"\\u0020: \\"${KEY}\\"}"}`;
  assert.ok(!redact(spaced).includes(KEY), spaced);
  // Quoted code with colons and no secret comes back as the same Buffer.
  const code = Buffer.from(JSON.stringify({ content: 'const a = { "b": 1, "c": "d:e" };\nif (x) { y: "z" }'.repeat(200) }));
  assert.equal(new Redactor().body(code, 'application/json'), code);
});

test('a body cut at the limit inside a secret still has the partial secret redacted', () => {
  const r = new Redactor();
  const cut = Buffer.from(`{"access_token": "${KEY.slice(0, 20)}`);
  const out = r.body(cut, 'application/json').toString();
  assert.ok(!out.includes(KEY.slice(0, 20)), out);
});

test('a secret seen under a telling name is also replaced where it turns up under none', () => {
  const r = new Redactor();
  r.headers(['x-api-key', KEY, 'Cookie', 'theme=dark']);
  const body = Buffer.from(JSON.stringify({ role: 'user', content: `$ echo $ANTHROPIC_API_KEY\n${KEY}` }));
  assert.equal(r.body(body, 'application/json').toString(), JSON.stringify({ role: 'user', content: `$ echo $ANTHROPIC_API_KEY\n${MARK}` }));
  assert.equal(r.headerValue('x-echo', `was ${KEY}`), `was ${MARK}`);
  assert.equal(r.url(`https://a.test/?q=${KEY}`), `https://a.test/?q=${MARK}`);
  // Short values (a cookie's "dark") are not remembered: they would blank out ordinary words.
  assert.equal(r.jsonText('{"theme": "dark"}'), '{"theme": "dark"}');
});

test('a large body (past the size V8 keeps strings apart) is redacted from its bytes exactly as a small one', () => {
  // The same documents with a short and a 140 KB pad: the outputs differ only in the pad.
  const pad = (n: number) => `"${'~'.repeat(n)}"`;
  const docs = [
    `{"pad": PAD, "deep": [{"x": {"access_token" : "${KEY}", "refreshToken":"${OTHER}"}}], "n": 1.50}`,
    `{"args": "{\\"id_token\\": \\"${KEY}\\"}", "pad": PAD, "text": "é ü \\" \\\\", "token": "logprob"}`,
    `{"pad": PAD, "content": "$ cat .env\\nX=${KEY}", "clientSecret": "${OTHER}"}`,
    `{"pad": PAD}`,
    `{"pad": PAD, "api_key": "${KEY.slice(0, 20)}`,
  ];
  for (const doc of docs) {
    const small = new Redactor({ fields: ['customSecretField'] });
    const large = new Redactor({ fields: ['customSecretField'] });
    // Both have seen the key under a telling name, so its unnamed copies go too.
    small.headers(['x-api-key', KEY]);
    large.headers(['x-api-key', KEY]);
    const expected = small.body(Buffer.from(doc.replace('PAD', pad(1))), 'application/json').toString('latin1');
    const input = Buffer.from(doc.replace('PAD', pad(140_000)));
    const out = large.body(input, 'application/json');
    assert.equal(out.toString('latin1'), expected.replace(pad(1), pad(140_000)), doc);
    // And on its own terms: no secret, whole or cut, is left, and the pad is kept byte for byte.
    for (const secret of [KEY, OTHER, KEY.slice(0, 20)]) assert.ok(!out.toString().includes(secret), `${secret} left in ${doc}`);
    assert.ok(out.toString().includes(pad(140_000)), doc);
    if (doc === '{"pad": PAD}') assert.equal(out, input, 'nothing secret: the same Buffer back');
  }
});

test('form bodies: token fields redacted, the rest byte for byte', () => {
  const r = new Redactor();
  const body = Buffer.from(`grant_type=refresh_token&refresh_token=${encodeURIComponent(KEY)}&client_id=app`);
  assert.equal(r.body(body, 'application/x-www-form-urlencoded').toString(),
    `grant_type=refresh_token&refresh_token=${MARK}&client_id=app`);
});

test('nothing given to the sink holds the key: headers, URL, JSON and form bodies (gzip too), SSE, WebSocket', async () => {
  const h = harness();
  const script = new TapScript();
  const events: TapEvent[] = [script.open()];
  const jsonBody = Buffer.from(JSON.stringify({
    model: 'm', metadata: { nested: [{ oauth: { access_token: KEY, refresh_token: OTHER, id_token: KEY } }] },
    messages: [{ role: 'user', content: 'hello' }],
  }));
  events.push(...script.http({
    url: `https://api.example.test/v1/x?key=${KEY}&alt=sse`,
    requestHeaders: ['Authorization', `Bearer ${KEY}`, 'x-api-key', KEY, 'Proxy-Authorization', `Bearer ${KEY}`,
      'Cookie', `a=${KEY}`, 'Content-Type', 'application/json', 'Content-Encoding', 'gzip'],
    requestBody: gzipSync(jsonBody),
    responseHeaders: ['Set-Cookie', `b=${KEY}; Secure`, 'Content-Type', 'application/json'],
    responseBody: Buffer.from(JSON.stringify({ access_token: KEY, token_type: 'bearer', expires_in: 3600 })),
    chunkSize: 7,
  }).events);
  events.push(...script.http({
    requestHeaders: ['Content-Type', 'application/x-www-form-urlencoded'],
    requestBody: Buffer.from(`grant_type=authorization_code&code_verifier=${KEY}&client_secret=${KEY}`),
    responseHeaders: ['Content-Type', 'text/event-stream'],
    responseBody: Buffer.from(`event: token\ndata: {"type":"auth","access_token":"${KEY}"}\n\n`),
  }).events);
  const ws = script.wsOpen('wss://api.example.test/v1/responses', ['Authorization', `Bearer ${KEY}`, 'Cookie', `c=${KEY}`]);
  events.push(...ws.events,
    { type: 'ws-message', exchangeId: ws.exchangeId, time: script.time(), direction: 'client-to-server', opcode: 'text',
      data: Buffer.from(JSON.stringify({ type: 'response.create', client_metadata: { api_key: KEY }, input: [] })) },
    { type: 'ws-message', exchangeId: ws.exchangeId, time: script.time(), direction: 'server-to-client', opcode: 'text',
      data: Buffer.from(`{"type":"session.updated","session":{"refresh_token":"${KEY}"}}`) },
    { type: 'exchange-end', exchangeId: ws.exchangeId, time: script.time(), outcome: 'complete' });
  await h.runLive(events);

  const dump = h.sink.dump();
  assert.ok(h.sink.calls.length > 10);
  assert.ok(!dump.includes(KEY), 'the key appears nowhere');
  assert.ok(!dump.includes(OTHER), 'the other token appears nowhere');
  assert.ok(!dump.includes(encodeURIComponent(KEY)));
  // Equal secrets give equal markers, everywhere.
  const occurrences = dump.split(MARK).length - 1;
  assert.ok(occurrences >= 15, `the same marker ${MARK} appears ${occurrences} times`);
  const req = h.sink.exchange(1);
  assert.equal(req.url, `https://api.example.test/v1/x?key=${MARK}&alt=sse`);
  assert.deepEqual(req.requestHeaders.slice(0, 2), [['Authorization', `Bearer ${MARK}`], ['x-api-key', MARK]]);
  const storedJson = JSON.parse(req.requestBody!.data.toString()) as { metadata: { nested: { oauth: Record<string, string> }[] } };
  assert.deepEqual(storedJson.metadata.nested[0].oauth, { access_token: MARK, refresh_token: redactionMarker(OTHER), id_token: MARK });
  assert.equal(req.requestBody!.data.length, jsonBody.length - 2 * KEY.length - OTHER.length + 2 * MARK.length + redactionMarker(OTHER).length,
    'only the secrets changed');
  assert.equal(h.sink.sse(2)[0].data, `{"type":"auth","access_token":"${MARK}"}`);
  assert.deepEqual(h.sink.exchange(ws.exchangeId).errors, []);
});
