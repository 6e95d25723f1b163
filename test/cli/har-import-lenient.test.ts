// `llm-capture import` is lenient where real HAR writers differ (Chrome, Firefox, HTTP Toolkit,
// mitmproxy): missing or odd metadata gets a default instead of failing the entry. Hostile but
// well-typed input (prototype keys, deep nesting in fields we do not read, huge strings) imports
// as data. What comes back out is valid HAR.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cli-process';
import { assertNoJavaScriptError, chromeEntry, DELETE, harText, webSocketEntry, withField, writeHar } from './har-fixtures';

// har-validator ships no types; its promise API resolves true or rejects with the errors.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const harValidator = require('har-validator') as { har(data: unknown): Promise<unknown> };

interface ExportedEntry {
  startedDateTime: string;
  time: number;
  request: { url: string; headers: { name: string; value: string }[] };
  response: { status: number; content: { text?: string } };
  timings: Record<string, number>;
}

describe('HAR import defaults what real tools leave out', { timeout: 120_000 }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'llmc-har-lenient-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  async function importAndExport(name: string, text: string) {
    const file = writeHar(root, `${name}.har`, text);
    const dataDir = join(root, name);
    const imported = await runCli(['import', file, '--data-dir', dataDir]);
    assertNoJavaScriptError(imported);
    const out = join(root, `${name}-out.har`);
    const exported = await runCli(['export', '--har', out, '--data-dir', dataDir]);
    assert.equal(exported.code, 0, exported.stderr);
    const har = JSON.parse(readFileSync(out, 'utf8')) as { log: { entries: ExportedEntry[] } };
    return { imported, file, har };
  }

  it('missing, negative, infinite and oddly typed metadata gets defaults, and the entries import', async () => {
    const lenient: [string, unknown][] = [
      ['no timings, no time', withField(withField(chromeEntry(0), 'timings', DELETE), 'time', DELETE)],
      ['odd timings, negative time', withField(withField(chromeEntry(1), 'timings', { send: 'x', wait: -1, receive: null }), 'time', -5)],
      ['infinite time, negative and odd sizes', withField(withField(withField(chromeEntry(2), 'time', 'INFINITY'), 'request.bodySize', -7), 'response.content.size', 'big')],
      ['no response', withField(chromeEntry(3), 'response', DELETE)],
      ['status -1 (no response)', withField(chromeEntry(4), 'response.status', -1)],
      ['odd scalars', { ...withField(withField(chromeEntry(5), 'request.httpVersion', 2), 'response.statusText', null), connection: 12, _resourceType: 7 }],
      ['Firefox form post: params, no text', withField(chromeEntry(6), 'request.postData', { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'a', value: '1' }] })],
      ['no headers, no content', withField(withField(chromeEntry(7), 'request.headers', DELETE), 'response.content', DELETE)],
      ['nulls for optional blocks', { ...withField(chromeEntry(8), 'request.postData', null), _webSocketMessages: null, _llmCapture: null }],
      ['a WebSocket', webSocketEntry(9)],
    ];
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const entries = lenient.map(([, e]) => JSON.stringify(e).replace('"INFINITY"', '1e999'));
    // Prototype keys are plain data in JSON; deep nesting in a field the importer does not read is ignored.
    const hostile = withField(chromeEntry(10), 'request.headers', [{ name: '__proto__', value: 'p' }, { name: 'constructor', value: 'c' }]);
    entries.push(JSON.stringify(hostile).replace(/^\{/, `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"cache":${deep},`)
      .replace('"request":{', '"request":{"__proto__":{"url":5},'));
    // A byte-order mark, HAR 1.1, no creator.
    const text = `\uFEFF{"log":{"version":"1.1","entries":[${entries.join(',')}]}}`;
    const { imported, file, har } = await importAndExport('lenient', text);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stderr, '');
    assert.equal(imported.stdout, `imported ${entries.length} entries from ${file}\n`);
    assert.equal(har.log.entries.length, entries.length);
    await assert.doesNotReject(harValidator.har(har), 'what was imported exports as valid HAR');
    for (const e of har.log.entries) {
      assert.ok(Number.isFinite(e.time) && e.time >= 0, `time ${e.time}`);
      assert.ok(Object.values(e.timings).every((t) => Number.isFinite(t)), JSON.stringify(e.timings));
    }
    const byN = (n: number) => har.log.entries.find((e) => e.request.url.endsWith(`n=${n}`));
    assert.equal(byN(2)?.time, 12, 'an infinite time is unknown: the timings tell (1 + 10 + 1)');
    assert.equal(byN(0)?.time, 0, 'neither time nor timings');
    assert.equal(byN(3)?.response.status, 0, 'no response');
    assert.equal(byN(4)?.response.status, 0, 'status -1 is no response');
    assert.deepEqual(byN(10)?.request.headers, [{ name: '__proto__', value: 'p' }, { name: 'constructor', value: 'c' }]);
  });

  it('a year-old HAR is imported and kept: retention counts its age from the import', async () => {
    const yearAgo = Date.now() - 400 * 86_400_000;
    const { imported, har } = await importAndExport('year-old', JSON.stringify({ log: { version: '1.2', creator: { name: 'Chrome', version: '1' }, entries: [chromeEntry(1, yearAgo), chromeEntry(2, yearAgo)] } }));
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(har.log.entries.length, 2);
  });

  it('huge strings import as data', async () => {
    const body = 'y'.repeat(4 << 20);
    const entry = withField(withField(chromeEntry(1), 'response.content.text', body), 'request.headers', [{ name: 'x-big', value: 'z'.repeat(1 << 20) }]);
    const { imported, har } = await importAndExport('huge', harText([entry]));
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(har.log.entries[0].response.content.text?.length, body.length);
    assert.equal(har.log.entries[0].request.headers[0].value.length, 1 << 20);
  });
});
