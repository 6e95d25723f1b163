// One fuzz run, shared by the CI test (a few hundred cases) and the bench (10,000): the real CLI
// proxy capturing into a data directory, a scripted upstream and a WebSocket echo on loopback, and
// every case checked against what the other side sent or what a direct connection gives. At the
// end the store must list every exchange and show every session.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activity } from '../../../src/app/activity';
import { assembleSessions } from '../../../src/app/session-index';
import { renderMarkdownTranscript } from '../../../src/conversation';
import { CaptureStore } from '../../../src/store';
import { runCli, startCliProxy } from '../../cli/cli-process';
import { startFakeUpstream } from '../fake-upstream';
import { DirectAgent, tlsThroughProxy, TunnelAgent } from '../proxied-request';
import { createTestPki } from '../test-pki';
import { httpCase, type HttpCaseKind } from './http-cases';
import { checkCase, sendCase } from './http-runner';
import { directTls, firstStatus, rawHttpCase } from './raw-http-cases';
import { Rng } from './rng';
import { startScriptedUpstream } from './scripted-upstream';
import { playWsCase, wsCase } from './ws-cases';

const ANTHROPIC = 'api.anthropic.com';
const OPENAI = 'api.openai.com';

export type FuzzCategory = HttpCaseKind | 'websocket' | 'raw-http';
export const CATEGORIES: FuzzCategory[] = ['sse', 'compressed', 'json-request', 'websocket', 'raw-http'];

export interface FuzzFailure {
  category: FuzzCategory;
  index: number;
  name: string;
  problem: string;
}

export interface FuzzReport {
  seed: number;
  cases: Record<FuzzCategory, number>;
  failures: FuzzFailure[];
  /** Problems with the store after the run (listing, showing). */
  storeProblems: string[];
  sessions: number;
  logEntries: number;
  /** The oldest cases' exchanges, removed by the store's retention to stay under its size limit. */
  removedByRetention: number;
  /** The proxy process's peak resident memory (Linux), in MB. */
  proxyPeakRssMb?: number;
  ms: number;
}

export async function runFuzz(seed: number, perCategory: number, progress?: (done: number, total: number) => void): Promise<FuzzReport> {
  const started = Date.now();
  const rng = new Rng(seed);
  const pki = createTestPki();
  const scripted = await startScriptedUpstream(pki.serverCert([ANTHROPIC]));
  const echo = await startFakeUpstream(pki.serverCert([OPENAI]));
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-fuzz-'));
  const proxy = await startCliProxy(['--data-dir', dataDir, '--intercept', `${ANTHROPIC},${OPENAI}`, '--upstream-ca', pki.caCertPath, '--quiet',
    '--map', `${ANTHROPIC}:443=127.0.0.1:${scripted.port}`, '--map', `${OPENAI}:443=127.0.0.1:${echo.port}`, '--only-mapped']);
  const target = { proxyUrl: proxy.url, ca: readFileSync(join(dataDir, 'ca.pem'), 'utf8') };
  const httpAgent = new TunnelAgent(target, { keepAlive: true, maxSockets: 2 });
  const report: FuzzReport = { seed, cases: { sse: 0, compressed: 0, 'json-request': 0, websocket: 0, 'raw-http': 0 }, failures: [], storeProblems: [], sessions: 0, logEntries: 0, removedByRetention: 0, ms: 0 };
  const ids: string[] = [];
  try {
    const total = perCategory * CATEGORIES.length;
    for (let i = 0; i < total; i++) {
      const category = CATEGORIES[i % CATEGORIES.length]!;
      const index = report.cases[category]++;
      const fail = (name: string, problem: string | undefined): void => {
        if (problem) report.failures.push({ category, index, name, problem });
      };
      if (category === 'websocket') {
        const c = wsCase(rng);
        const url = `wss://${OPENAI}/v1/responses?case=ws-${seed}-${index}`;
        const direct = await playWsCase(url, new DirectAgent(echo.port, pki.caCert), c);
        const proxied = await playWsCase(url, new TunnelAgent(target, { keepAlive: false }), c);
        fail(c.name, direct.join(' | ') === proxied.join(' | ') ? undefined : `direct: ${direct.join(' | ')}\nproxy:  ${proxied.join(' | ')}`);
      } else if (category === 'raw-http') {
        const c = rawHttpCase(rng, ANTHROPIC);
        const direct = await firstStatus(await directTls(scripted.port, ANTHROPIC, pki.caCert), c.bytes);
        const proxied = await firstStatus(await tlsThroughProxy(target, ANTHROPIC), c.bytes);
        fail(c.name, direct === proxied ? undefined : `direct answered ${direct}, the proxy ${proxied}`);
      } else {
        const id = `${seed}-${category}-${index}`;
        const c = httpCase(rng, category, id);
        scripted.script(id, c.response);
        ids.push(id);
        const got = await sendCase(httpAgent, ANTHROPIC, c);
        fail(c.name, checkCase(c, got, scripted, id));
      }
      // The proxy must still serve an ordinary request after every case.
      const health = await sendCase(httpAgent, ANTHROPIC, { kind: 'sse', name: 'health', path: '/health', requestHeaders: {}, requestPieces: [], response: { status: 200, headers: [], pieces: [], end: 'clean' } });
      if (health.status !== 200) report.failures.push({ category, index, name: 'health', problem: `the next request got ${health.status ?? health.error}` });
      progress?.(i + 1, total);
    }
  } finally {
    httpAgent.destroy();
    report.proxyPeakRssMb = peakRssMb(proxy.child.pid);
    const code = await proxy.stop();
    if (code !== 0) report.storeProblems.push(`the proxy exited with ${code}: ${proxy.stderr().slice(-2000)}`);
    await Promise.allSettled([scripted.close(), echo.close()]);
  }
  await checkStore(dataDir, ids, report);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
  report.ms = Date.now() - started;
  return report;
}

function peakRssMb(pid: number | undefined): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** The store lists every case's exchange and shows every session, in process and through the CLI. */
async function checkStore(dataDir: string, ids: string[], report: FuzzReport): Promise<void> {
  const store = await CaptureStore.open({ dataDir, mode: 'reader' });
  try {
    const entries = activity(store, 1_000_000);
    report.logEntries = entries.length;
    const urls = new Set(entries.map((e) => new URL(e.url, 'https://x').searchParams.get('case')));
    // Retention (512 MB by default) removes the oldest exchanges of a long run, and only those: the
    // cases kept must be the newest ones, with no hole among them.
    const firstKept = ids.findIndex((id) => urls.has(id));
    report.removedByRetention = firstKept < 0 ? ids.length : firstKept;
    const holes = ids.slice(Math.max(0, firstKept)).filter((id) => !urls.has(id));
    if (firstKept < 0 && ids.length > 0) report.storeProblems.push('no case is in the log');
    if (holes.length > 0) report.storeProblems.push(`${holes.length} exchanges missing from the log among newer ones kept, e.g. ${holes.slice(0, 3).join(', ')}`);
    const assembler = assembleSessions(store);
    report.sessions = assembler.sessionIds().length;
    for (const id of assembler.sessionIds()) {
      try {
        const detail = assembler.session(id);
        if (!detail) throw new Error('no detail');
        renderMarkdownTranscript(detail, { full: true });
        JSON.stringify(detail);
      } catch (e) {
        report.storeProblems.push(`session ${id} cannot be shown: ${(e as Error).message}`);
      }
    }
  } finally {
    await store.close();
  }
  const listed = await runCli(['sessions', '--json', '--data-dir', dataDir]);
  if (listed.code !== 0) report.storeProblems.push(`llm-capture sessions failed: ${listed.stderr}`);
}
