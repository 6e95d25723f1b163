// Help and version through the real CLI: the overview lists every command, each command's page
// describes every option it takes with an example, `--version` prints package.json's version, and
// usage errors point to the command's own help.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from './cli-process';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Every command and the options its parser accepts (read from src/cli/*-command.ts), --help aside. */
const OTLP = ['--otlp', '--otlp-endpoint', '--otlp-protocol', '--otlp-header', '--otlp-content', '--otlp-agent-idle'];
const OPTIONS: Record<string, string[]> = {
  demo: ['--data-dir'],
  proxy: ['--port', '--data-dir', '--intercept', '--upstream-ca', '--upstream-proxy', '--map', '--only-mapped', '--require-auth',
    '--auth-token', '--max-body-mb', '--redact-header', '--redact-field', '--quiet', '--verbose', ...OTLP],
  env: ['--port', '--data-dir'],
  log: ['--json', '--limit', '--data-dir'],
  sessions: ['--json', '--data-dir'],
  search: ['--client', '--model', '--since', '--until', '--errors', '--limit', '--json', '--data-dir'],
  show: ['--json', '--markdown', '--full', '--html', '--data-dir'],
  export: ['--har', '--session', '--since', ...OTLP, '--data-dir'],
  import: ['--data-dir'],
};

/** The option lines of a help page: `  --name …`, one per option. */
function describedOptions(help: string): string[] {
  const section = /\noptions:\n([\s\S]*?)\n\n/.exec(help)?.[1] ?? '';
  return [...section.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
}

describe('llm-capture help and version', { timeout: 120_000 }, () => {
  test('--help, -h and help: a description, every command with one line, and where the options are', async () => {
    const pages = await Promise.all([['--help'], ['-h'], ['help']].map(runCli));
    for (const r of pages) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, pages[0].stdout);
    }
    const help = pages[0].stdout;
    assert.match(help, /^LLM Capture .+/);
    const listed = [...help.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]);
    assert.deepEqual(listed, Object.keys(OPTIONS), 'demo first, then every command');
    assert.match(help, /Run "llm-capture <command> --help" for its options/);
  });

  test('no arguments: the overview on stderr and exit code 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^LLM Capture [\s\S]*\n {2}proxy {2,}/);
  });

  for (const [command, options] of Object.entries(OPTIONS)) {
    test(`${command} --help: usage, what it does, every option described, an example`, async () => {
      const r = await runCli([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^usage: llm-capture ${command}\\b`));
      assert.deepEqual(describedOptions(r.stdout).sort(), [...options, '--help'].sort());
      assert.match(r.stdout, new RegExp(`\\nexamples:\\n[\\s\\S]*\\n {2}(eval .*)?llm-capture ${command}\\b`));
    });
  }

  test('help show and show -h are the same page; --help wins over the other arguments', async () => {
    const [a, b, c] = await Promise.all([runCli(['help', 'show']), runCli(['show', '-h']), runCli(['proxy', '--port', '1', '--help'])]);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^usage: llm-capture proxy/);
    assert.doesNotMatch(c.stdout, /listening on 127\.0\.0\.1:\d/, 'the proxy did not start');
  });

  test('--version and -V print the version in package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `llm-capture ${VERSION}\n`);
    }
  });

  test('a usage error is one line that points to the command\'s help', async () => {
    const unknown = await runCli(['proxy', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'llm-capture: Unknown option \'--bogus\' (see "llm-capture proxy --help")\n');
    const full = await runCli(['show', 'abc', '--json', '--full']);
    assert.equal(full.code, 2);
    assert.match(full.stderr, /^llm-capture: --full goes with --markdown[^\n]*\(see "llm-capture show --help"\)\n$/);
    const command = await runCli(['frobnicate']);
    assert.equal(command.stderr, 'llm-capture: unknown command "frobnicate" (see "llm-capture --help")\n');
  });
});
