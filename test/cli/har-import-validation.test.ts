// `llm-capture import` on damaged, wrong-typed and hostile HAR files, through the real CLI. A file
// that is not usable HAR fails with one message and writes nothing; a bad entry is skipped with
// its index and field, the others are imported; no JavaScript error ever reaches the user.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cli-process';
import { assertNoJavaScriptError, chromeEntry, DELETE, harText, webSocketEntry, withField, WS_MESSAGE, writeHar } from './har-fixtures';

const DEEP = 100_000;

describe('HAR import checks its input', { timeout: 180_000 }, () => {
  let root: string;
  let runs = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'llmc-har-check-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Imports `text` into a data directory that does not exist yet. */
  async function importText(text: string) {
    const n = runs++;
    const file = writeHar(root, `in-${n}.har`, text);
    const dataDir = join(root, `store-${n}`, 'nested');
    const result = await runCli(['import', file, '--data-dir', dataDir]);
    return { ...result, file, dataDir };
  }

  it('a file that is not usable HAR fails with one clear message and leaves no store', async () => {
    const good = harText([chromeEntry(1), chromeEntry(2)]);
    const cases: [string, string, RegExp][] = [
      ['empty', '', /not a HAR file: the file is empty/],
      ['blank', ' \n\t\n', /not a HAR file: the file is empty/],
      ['truncated', good.slice(0, Math.floor(good.length / 2)), /not valid JSON: .*\(is the file truncated\?\)/],
      ['truncated with a newline', `${good.slice(0, good.length - 3)}\n`, /not valid JSON: .*\(is the file truncated\?\)/],
      ['not JSON', 'GET /v1/messages HTTP/1.1', /not valid JSON: /],
      ['not JSON, with terminal escapes', '\u001b[2J\u001b[31mred', /not valid JSON: .*\\u001b\[2J/],
      ['null', 'null', /not a HAR file: expected a JSON object with a "log", got null/],
      ['an array', '[{"log":{}}]', /not a HAR file: expected a JSON object with a "log", got array/],
      ['no log', '{"entries":[]}', /not a HAR file: log: missing/],
      ['log of the wrong type', '{"log":"1.2"}', /not a HAR file: log: expected an object, got string/],
      ['no entries', '{"log":{"version":"1.2"}}', /not a HAR file: log\.entries: missing/],
      ['entries of the wrong type', '{"log":{"entries":{"0":{}}}}', /not a HAR file: log\.entries: expected an array, got object/],
      ['another HAR version', harText([chromeEntry(1)], { version: '2.0' }), /unsupported HAR version "2\.0"/],
      ['zero entries', harText([]), /the file has no entries/],
      [`${DEEP} levels of arrays`, `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`, /expected a JSON object with a "log", got array|nested too deeply/],
      [`${DEEP} levels under log`, `{"log":${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}}`, /log\.entries: missing|nested too deeply/],
    ];
    for (const [name, text, message] of cases) {
      const r = await importText(text);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, '', name);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`llm-capture: cannot import ${r.file}: `), `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.ok(r.stderr.length < 400, `${name}: a short message`);
      assert.ok(!r.stderr.includes('\u001b'), `${name}: a raw escape character reached the terminal`);
      assertNoJavaScriptError(r);
      assert.equal(existsSync(join(r.dataDir, '..')), false, `${name}: the data directory was created`);
    }
  });

  it('a file without any importable entry fails, lists each entry, and leaves no store', async () => {
    const cases: [string, string, string[]][] = [
      ['entries: [null]', harText([null]), ['entry 0: expected an object, got null']],
      ['scalars', harText(['entry', 42, true, []]), ['entry 0: expected an object, got string', 'entry 1: expected an object, got number',
        'entry 2: expected an object, got boolean', 'entry 3: expected an object, got array']],
      ['an entry nested deeply', `{"log":{"entries":[${'['.repeat(DEEP)}${']'.repeat(DEEP)}]}}`, ['entry 0: expected an object, got array']],
      ['no request', harText([withField(chromeEntry(1), 'request', DELETE)]), ['entry 0: request: missing']],
    ];
    for (const [name, text, reasons] of cases) {
      const r = await importText(text);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.deepEqual(lines.slice(0, -1), reasons.map((reason) => `llm-capture: skipped ${reason}`), name);
      assert.equal(lines.at(-1), `llm-capture: cannot import ${r.file}: none of its ${reasons.length} entries can be imported`, name);
      assertNoJavaScriptError(r);
      assert.equal(existsSync(join(r.dataDir, '..')), false, `${name}: the data directory was created`);
    }
  });

  it('a mixed file imports the good entries and names each skipped one by index and field', async () => {
    const entries: unknown[] = Array.from({ length: 14 }, (_, i) => (i % 5 === 4 ? webSocketEntry(i) : chromeEntry(i)));
    entries[3] = withField(chromeEntry(3), 'request.url', 5);
    entries[9] = withField(webSocketEntry(9), '_webSocketMessages', [WS_MESSAGE, { ...WS_MESSAGE, type: 'sent' }]);
    const r = await importText(harText(entries));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `imported 12 of 14 entries from ${r.file} (2 skipped)\n`);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'llm-capture: skipped entry 3: request.url: expected a string, got number',
      'llm-capture: skipped entry 9: _webSocketMessages[1].type: expected "send" or "receive", got "sent"',
    ]);
    const log = await runCli(['log', '--json', '--data-dir', r.dataDir]);
    assert.equal(log.code, 0, log.stderr);
    const listed = JSON.parse(log.stdout) as { url: string; kind: string }[];
    assert.equal(listed.length, 12);
    assert.equal(listed.filter((e) => e.kind === 'websocket').length, 1, 'entry 4 is a WebSocket; entry 9 was skipped');
    assert.ok(!listed.some((e) => e.url.endsWith('n=3')), 'the skipped entry was stored');
  });

  it('wrong types anywhere are reported by field, the good entry still imports', async () => {
    const ws = webSocketEntry(0);
    const llm = { exchangeId: 1, connectionId: 1, kind: 'http', errors: [], times: { startedAt: Date.now() } };
    const bad: [unknown, string][] = [
      [withField(chromeEntry(0), 'request.url', 5), 'request.url: expected a string, got number'],
      [withField(chromeEntry(0), 'request.method', null), 'request.method: expected a string, got null'],
      [withField(chromeEntry(0), 'request.method', ''), 'request.method: empty'],
      [withField(chromeEntry(0), 'request.headers', {}), 'request.headers: expected an array, got object'],
      [withField(chromeEntry(0), 'request.headers', [{ name: 'a', value: 'b' }, { name: 'x', value: 1 }]), 'request.headers[1].value: expected a string, got number'],
      [withField(chromeEntry(0), 'request.headers', [null]), 'request.headers[0]: expected an object, got null'],
      [withField(chromeEntry(0), 'request.postData', 'a body'), 'request.postData: expected an object, got string'],
      [withField(chromeEntry(0), 'request.postData', { mimeType: 'application/octet-stream', _encoding: 'base64', text: 'not base64!' }), 'request.postData.text: not valid base64'],
      [withField(chromeEntry(0), 'response', []), 'response: expected an object, got array'],
      [withField(chromeEntry(0), 'response.status', '200'), 'response.status: expected a number, got string'],
      [withField(chromeEntry(0), 'response.status', 200.5), 'response.status: not an HTTP status: 200.5'],
      [withField(chromeEntry(0), 'response.headers', 'content-type: x'), 'response.headers: expected an array, got string'],
      [withField(chromeEntry(0), 'response.content', 7), 'response.content: expected an object, got number'],
      [withField(chromeEntry(0), 'response.content.text', true), 'response.content.text: expected a string, got boolean'],
      [withField(chromeEntry(0), 'response.content', { size: 3, mimeType: 'image/png', encoding: 'base64', text: '%%%not-base64%%%' }), 'response.content.text: not valid base64'],
      [withField(chromeEntry(0), 'startedDateTime', DELETE), 'startedDateTime: missing'],
      [withField(chromeEntry(0), 'startedDateTime', 'yesterday'), 'startedDateTime: not a date: "yesterday"'],
      [withField(chromeEntry(0), 'startedDateTime', 1735689600), 'startedDateTime: expected a string, got number'],
      [withField(ws, '_webSocketMessages', 'hello'), '_webSocketMessages: expected an array, got string'],
      [withField(ws, '_webSocketMessages', [null]), '_webSocketMessages[0]: expected an object, got null'],
      [withField(ws, '_webSocketMessages', [{ ...WS_MESSAGE, opcode: 2, data: '***' }]), '_webSocketMessages[0].data: not valid base64'],
      [withField(ws, '_webSocketMessages', [{ ...WS_MESSAGE, time: 'now' }]), '_webSocketMessages[0].time: expected a number, got string'],
      [withField(ws, '_webSocketMessages', [{ ...WS_MESSAGE, time: 'INFINITY' }]), '_webSocketMessages[0].time: expected a finite number, got Infinity'],
      [withField(ws, '_webSocketMessages', [{ ...WS_MESSAGE, opcode: 1.5 }]), '_webSocketMessages[0].opcode: not a WebSocket opcode: 1.5'],
      [withField(ws, '_webSocketMessages', [{ ...WS_MESSAGE, data: undefined }]), '_webSocketMessages[0].data: missing'],
      [withField(chromeEntry(0), '_llmCapture', 'ours'), '_llmCapture: expected an object, got string'],
      [withField(chromeEntry(0), '_llmCapture', { ...llm, times: { startedAt: 'x' } }), '_llmCapture.times.startedAt: expected a number, got string'],
      [withField(chromeEntry(0), '_llmCapture', { ...llm, kind: 'carrier-pigeon' }), '_llmCapture.kind: unknown kind "carrier-pigeon"'],
      [withField(chromeEntry(0), '_llmCapture', { ...llm, errors: [1] }), '_llmCapture.errors[0]: expected a string, got number'],
    ];
    // JSON.parse reads 1e999 as Infinity, which JSON.stringify cannot write.
    const text = harText([chromeEntry(1), ...bad.map(([entry]) => entry)]).replace('"INFINITY"', '1e999');
    const r = await importText(text);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `imported 1 of ${bad.length + 1} entries from ${r.file} (${bad.length} skipped)\n`);
    assert.deepEqual(r.stderr.trim().split('\n'), bad.map(([, reason], i) => `llm-capture: skipped entry ${i + 1}: ${reason}`));
    assertNoJavaScriptError(r);
  });

  it('a value in a message is quoted and cut short, whatever the file holds', async () => {
    const r = await importText(harText([chromeEntry(1), withField(chromeEntry(2), 'startedDateTime', `\u001b[31m${'x'.repeat(4 << 20)}`)]));
    assert.equal(r.code, 0, r.stderr);
    // 40 characters, the escape character escaped: a terminal shows it, it does not obey it.
    assert.equal(r.stderr, `llm-capture: skipped entry 1: startedDateTime: not a date: ${JSON.stringify(`\u001b[31m${'x'.repeat(35)}…`)}\n`);
    assert.ok(r.stderr.includes('\\u001b'));
  });
});
