// The CLI proxy's memory under hostile bodies: for each kind, 8 cases in a row through a proxy
// capturing to disk, with its resident memory sampled every 50 ms (Linux /proc). Kinds:
//   gzip-bomb-sse   192 MiB of zeros gzipped (~190 KB) as an SSE answer
//   gzip-bomb-json  the same as an application/json answer
//   json-8mb        an 8 MB JSON request body
//   sse-4mb-line    an SSE answer whose one data line is 4 MB
// `--before=DIR` runs DIR's CLI (another checkout, with node_modules) first, in the same run.
// Prints RSS before, peak and 2 s after each kind; asserts nothing. Every case must still reach
// the client byte for byte, or the run says so.
// Run: npx tsx bench/hostile-memory-bench.ts [--before=DIR] [--cases=8] [--only=KIND,…] [--profile]
// (--profile: CPU profiles of the proxies in bench/results/profiles/hostile-memory/).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TunnelAgent } from '../test/support/proxied-request';
import { checkCase, sendCase } from '../test/support/fuzz/http-runner';
import type { HttpFuzzCase } from '../test/support/fuzz/http-cases';
import { startScriptedUpstream } from '../test/support/fuzz/scripted-upstream';
import { createTestPki } from '../test/support/test-pki';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const CASES = Number(arg('cases') ?? 8);
const HOST = 'api.anthropic.com';
const ROOT = join(__dirname, '..');
const PROFILE_DIR = process.argv.includes('--profile') ? join(ROOT, 'bench', 'results', 'profiles', 'hostile-memory') : undefined;

interface Kind {
  name: string;
  make(id: string): HttpFuzzCase;
}

const bomb = gzipSync(Buffer.alloc(192 * 1024 * 1024), { level: 9 });
const smallRequest = Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] }));
const base = (id: string) => ({ kind: 'sse' as const, name: id, path: `/v1/messages?case=${id}`, requestHeaders: { 'content-type': 'application/json' } });

const ALL_KINDS: Kind[] = [
  { name: 'gzip-bomb-sse', make: (id) => ({ ...base(id), requestPieces: [smallRequest], response: { status: 200, headers: [['content-type', 'text/event-stream'], ['content-encoding', 'gzip']], pieces: [bomb], end: 'clean' } }) },
  { name: 'gzip-bomb-json', make: (id) => ({ ...base(id), requestPieces: [smallRequest], response: { status: 200, headers: [['content-type', 'application/json'], ['content-encoding', 'gzip']], pieces: [bomb], end: 'clean' } }) },
  {
    name: 'json-8mb', make: (id) => ({
      ...base(id), requestPieces: [Buffer.from(JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: `${id} ${'x'.repeat(8 * 1024 * 1024)}` }] }))],
      response: { status: 200, headers: [['content-type', 'application/json']], pieces: [Buffer.from('{"ok":true}')], end: 'clean' },
    }),
  },
  {
    name: 'sse-4mb-line', make: (id) => ({
      ...base(id), requestPieces: [smallRequest],
      response: { status: 200, headers: [['content-type', 'text/event-stream']], pieces: [Buffer.from(`event: message_start\ndata: {"text":"${id} ${'y'.repeat(4 * 1024 * 1024)}"}\n\n`)], end: 'clean' },
    }),
  },
];
const ONLY = arg('only')?.split(',');
const KINDS = ALL_KINDS.filter((k) => !ONLY || ONLY.includes(k.name));

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

async function startProxy(tree: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const flags = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(tree, 'src', 'cli', 'main.ts'), 'proxy', ...args], { cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`proxy exited with ${code}: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

interface Row {
  kind: string;
  before: number;
  peak: number;
  after: number;
  failures: number;
}

async function measure(label: string, tree: string): Promise<Row[]> {
  const pki = createTestPki();
  const upstream = await startScriptedUpstream(pki.serverCert([HOST]));
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-hostile-mem-'));
  const { child, url } = await startProxy(tree, ['--data-dir', dataDir, '--intercept', HOST, '--upstream-ca', pki.caCertPath, '--quiet',
    '--map', `${HOST}:443=127.0.0.1:${upstream.port}`, '--only-mapped']);
  const pid = child.pid!;
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 50);
  const agent = new TunnelAgent({ proxyUrl: url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') }, { keepAlive: true, maxSockets: 1 });
  const rows: Row[] = [];
  try {
    // A warm-up of each kind's path with small bodies, so the first kind does not pay for loading code.
    for (let i = 0; i < 3; i++) {
      const c: HttpFuzzCase = { ...base(`warm-${i}`), requestPieces: [smallRequest], response: { status: 200, headers: [['content-type', 'text/event-stream']], pieces: [Buffer.from('data: {}\n\n')], end: 'clean' } };
      upstream.script(c.name, c.response);
      await sendCase(agent, HOST, c);
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (const kind of KINDS) {
      const before = rssMb(pid);
      peak = before;
      let failures = 0;
      for (let i = 0; i < CASES; i++) {
        const id = `${label.replace(/\W+/g, "-")}-${kind.name}-${i}`;
        const c = kind.make(id);
        upstream.script(id, c.response);
        const got = await sendCase(agent, HOST, c);
        const problem = checkCase(c, got, upstream, id);
        if (problem) {
          failures++;
          console.log(`  ${label} ${kind.name} #${i}: ${problem}`);
        }
      }
      await new Promise((r) => setTimeout(r, 2000));
      rows.push({ kind: kind.name, before, peak, after: rssMb(pid), failures });
      console.log(`  ${label}: ${kind.name} done`);
    }
  } finally {
    clearInterval(sampler);
    agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const runs: [string, string][] = [];
  const before = arg('before');
  if (before) runs.push(['before', before]);
  runs.push([before ? 'after' : 'this build', ROOT]);
  const results: [string, Row[]][] = [];
  for (const [label, tree] of runs) results.push([label, await measure(label, tree)]);
  console.log(`\nproxy RSS (MB) over ${CASES} cases of each kind in a row, one proxy per build, kinds in this order; the bomb is ${(bomb.length / 1024).toFixed(0)} KB gzip of 192 MiB`);
  const header = ['kind', ...results.flatMap(([label]) => [`${label}: before`, 'peak', '2 s after'])];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(16) : h.padStart(i % 3 === 1 ? 16 : 10))).join(''));
  for (let k = 0; k < KINDS.length; k++) {
    const cells = results.flatMap(([, rows]) => [rows[k].before, rows[k].peak, rows[k].after].map((v) => v.toFixed(0)));
    console.log([KINDS[k].name.padEnd(16), ...cells.map((c, i) => c.padStart(i % 3 === 0 ? 16 : 10))].join(''));
  }
  const failed = results.flatMap(([label, rows]) => rows.filter((r) => r.failures > 0).map((r) => `${label} ${r.kind}: ${r.failures}`));
  console.log(failed.length === 0 ? 'every case reached the client byte for byte' : `cases that did not reach the client intact: ${failed.join(', ')}`);
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
