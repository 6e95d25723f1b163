// The VS Code side of bench/extension-bench.ts: builds under test (snapshotted at the start of
// the run), sandboxes with one build and the event-loop probe (bench/host-probe) installed, the
// extension host's process in /proc, its logs, and the probe's answers.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { makeSandbox, processTree, USER_SETTINGS, type Sandbox } from '../../test/vscode/code-server';

const PROBE_SOURCE = join(__dirname, '..', 'host-probe');
const PROBE_ENV = 'LLM_CAPTURE_BENCH_PROBE';

/** A built extension (package.json + dist/), copied aside when the run starts. */
export interface Build {
  /** Column heading. */
  label: string;
  /** Where it was built. */
  source: string;
  /** The copy the run installs (another build of `source` meanwhile changes nothing). */
  dir: string;
  /** `git describe` of the source, with "+dirty" when src/ has uncommitted changes. */
  commit: string;
  publisher: string;
  name: string;
  version: string;
  extensionJsBytes: number;
}

function git(dir: string, ...args: string[]): string {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** Copies a build's package.json, dist/ and assets into a temp folder. */
export function snapshotBuild(label: string, source: string): Build {
  const src = resolve(source);
  if (!existsSync(join(src, 'dist', 'extension.js'))) throw new Error(`${src}/dist/extension.js is missing: build it first (node scripts/build.mjs)`);
  const dir = mkdtempSync(join(tmpdir(), `llm-capture-bench-build-${label.replace(/\W+/g, '-')}-`));
  cpSync(join(src, 'package.json'), join(dir, 'package.json'));
  cpSync(join(src, 'dist'), join(dir, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.map') });
  for (const extra of ['README.md', 'LICENSE', 'media', 'resources']) {
    if (existsSync(join(src, extra))) cpSync(join(src, extra), join(dir, extra), { recursive: true });
  }
  const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const head = git(src, 'rev-parse', '--short', 'HEAD');
  const dirty = git(src, 'status', '--porcelain', '--', 'src', 'webview-ui', 'package.json') !== '';
  return {
    label, source: src, dir, commit: head ? `${head}${dirty ? '+dirty' : ''}` : basename(src),
    publisher: m.publisher, name: m.name, version: m.version,
    extensionJsBytes: statSync(join(dir, 'dist', 'extension.js')).size,
  };
}

/**
 * A sandbox with `build` installed as a user's install places it, the probe beside it, the user
 * settings written, and the probe told (by environment) where to say its port.
 */
export function sandboxFor(build: Build, settings: Record<string, unknown> = {}): Sandbox {
  const sandbox = makeSandbox('ext-bench');
  writeFileSync(join(sandbox.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...USER_SETTINGS, ...settings }, null, 2));
  cpSync(build.dir, join(sandbox.extensionsDir, `${build.publisher}.${build.name}-${build.version}`), { recursive: true });
  cpSync(PROBE_SOURCE, join(sandbox.extensionsDir, 'llm-capture-bench.host-probe-0.0.1'), { recursive: true });
  sandbox.env[PROBE_ENV] = sandbox.root;
  return sandbox;
}

/** The extension's context.globalStorageUri inside a sandbox: where its CA and store live. */
export function globalStorage(sandbox: Sandbox, build: Build): string {
  return join(sandbox.userDataDir, 'User', 'globalStorage', `${build.publisher}.${build.name}`.toLowerCase());
}

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) out.push(...filesUnder(p));
      else out.push(p);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function diskBytes(dir: string): number {
  return filesUnder(dir).reduce((n, f) => {
    try {
      return n + statSync(f).size;
    } catch {
      return n;
    }
  }, 0);
}

/** Whether a build's dist/*.js contains a text (what a build can do, for the phases that depend on it). */
export function distHas(build: Build, text: string): boolean {
  return filesUnder(join(build.dir, 'dist')).some((f) => f.endsWith('.js') && readFileSync(f, 'utf8').includes(text));
}

/** Copies the CA files (not the store) of one data directory into another. */
export function copyCa(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of ['ca.pem', 'ca-key.pem', 'ca-bundle.pem', 'ca.json']) {
    if (existsSync(join(from, name))) cpSync(join(from, name), join(to, name));
  }
}

// ---- /proc -------------------------------------------------------------------------------------------

/** The extension host among the server's processes: its command line has --type=extensionHost. */
export function extensionHostPid(serverPid: number): number | undefined {
  for (const pid of processTree(serverPid)) {
    if (pid === serverPid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--type=extensionHost')) return pid;
    } catch {
      // exited
    }
  }
  return undefined;
}

/** CPU time (user + system) of a process, all its threads, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU time of the process's main thread alone (its task whose id is the pid), in ms. */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The main thread's /proc schedstat: time on a core and time runnable but waiting for one (ns).
 * On a busy 2-core machine the second is what stretches the event loop's delay without any work of its own.
 */
export function mainThreadSched(pid: number): { cpuNs: number; waitNs: number } {
  const [cpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { cpuNs: cpu ?? NaN, waitNs: wait ?? NaN };
}

export function procStatus(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---- logs ---------------------------------------------------------------------------------------------

/** Timestamps ("2026-11-25 00:51:00.123", local time) of the log lines that match. */
export function logTimes(file: string | undefined, match: RegExp): number[] {
  const out: number[] = [];
  for (const line of logLines(file, match)) {
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})/.exec(line);
    if (m) out.push(new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime());
  }
  return out;
}

export function logLines(file: string | undefined, match: RegExp): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => match.test(line));
  } catch {
    return [];
  }
}

/** The newest matching log (a sandbox started again has one log folder per start, named by time). */
export function findLog(sandbox: Sandbox, name: RegExp): string | undefined {
  return filesUnder(join(sandbox.userDataDir, 'logs')).filter((f) => name.test(f)).sort().pop();
}

export function findLogs(sandbox: Sandbox, name: RegExp): string[] {
  return filesUnder(join(sandbox.userDataDir, 'logs')).filter((f) => name.test(f));
}

// ---- the event-loop probe (bench/host-probe) ----------------------------------------------------------

/** What the probe reports, in ms past its timer's resolution (0: the timer fired on time). */
/** An extension's own activation, from VS Code's marks: its code's loading and its activate() call, in ms. */
export type ActivationMarks =
  | { found: false }
  | { found: true; codeMs: number; activateMs: number; sameBatch: { id: string; codeMs: number; startedBefore: number }[] };

export interface LoopDelay {
  pid: number;
  isMainThread: boolean;
  sinceMs: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  utilization: number;
  perSecondMax: number[];
  /** The main thread's V8 heap in use when read (absent from an older probe). */
  heapUsedMb?: number;
}

export class Probe {
  private constructor(readonly port: number, readonly pid: number, readonly isMainThread: boolean) {}

  /** Waits until the probe in this sandbox's extension host has said its port. */
  static async find(sandbox: Sandbox, timeoutMs = 60_000): Promise<Probe> {
    const file = join(sandbox.root, 'probe.json');
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`the event-loop probe did not write ${file} (is ${PROBE_ENV} passed to the extension host?)`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const p = JSON.parse(readFileSync(file, 'utf8')) as { port: number; pid: number; isMainThread: boolean };
    return new Probe(p.port, p.pid, p.isMainThread);
  }

  private get<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, agent: false, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()) as T);
          } catch (e) {
            reject(e as Error);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('the probe did not answer in 30 s')));
      req.on('error', reject);
      req.end();
    });
  }

  /** Starts a CPU profile of the extension host's main thread. */
  async startProfile(): Promise<void> {
    await this.get('/profile/start');
  }

  /** Stops it and writes it to `file` (.cpuprofile). */
  async stopProfile(file: string): Promise<void> {
    await this.get(`/profile/stop?file=${encodeURIComponent(file)}`);
  }

  async reset(): Promise<void> {
    await this.get('/reset');
  }

  /** The figures since the last reset, and a reset. */
  async read(): Promise<LoopDelay> {
    return this.get<LoopDelay>('/read?reset=1');
  }

  /** VS Code's activation marks of one extension (see activationMarks in host-probe/extension.js). */
  async activationMarks(extensionId: string): Promise<ActivationMarks> {
    return this.get<ActivationMarks>(`/marks?extension=${encodeURIComponent(extensionId)}`);
  }
}
