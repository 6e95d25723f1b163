// Runs the real agent CLIs (installed by `npm install --prefix test/agents`, never a dependency
// of the extension) as a user would: in a scratch HOME, with only the proxy's variables and
// fake keys in their environment, inside the network namespace that scripts/run-tests.mjs
// makes, so that nothing they try to reach can leave the machine.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { CaptureService } from '../../src/app/capture-service';
import { parseMapping, startProxy, Tap, type ExchangeOutcome, type HostMapping, type RunningProxy } from '../../src/proxy';

export type AgentName = 'claude' | 'codex' | 'opencode' | 'gemini';

const AGENTS_DIR = __dirname;
const MODULES = join(AGENTS_DIR, 'node_modules');
const PACKAGES: Record<AgentName, string> = {
  claude: '@anthropic-ai/claude-code', codex: '@openai/codex', opencode: 'opencode-ai', gemini: '@google/gemini-cli',
};
const INSTALL_HINT = 'run `npm ci --prefix test/agents` (or `npm install --prefix test/agents`)';

export interface AgentGate {
  /** The `skip` option for a test: a reason, or false when the test must run. */
  skip: string | false;
  /** Why the agent cannot run here, if it cannot. */
  problem: string | undefined;
  /** The binary to run; throws (failing the suite) when the agent cannot run. */
  binary(): string;
}

/**
 * Skips when the CLI is missing or the run is not network-isolated, unless
 * LLM_CAPTURE_REQUIRE_AGENTS=1 (CI), which turns either into a failure.
 */
export function agentGate(name: AgentName): AgentGate {
  const located = locateAgent(name);
  const problem = isolationProblem() ?? located.problem;
  const required = process.env.LLM_CAPTURE_REQUIRE_AGENTS === '1';
  return {
    skip: problem && !required ? problem : false,
    problem,
    binary() {
      if (problem) throw new Error(`${problem} (LLM_CAPTURE_REQUIRE_AGENTS=1 makes this a failure)`);
      return located.binary as string;
    },
  };
}

function locateAgent(name: AgentName): { binary?: string; problem?: string } {
  const pkg = PACKAGES[name];
  const pinned = (JSON.parse(readFileSync(join(AGENTS_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies[pkg];
  const manifest = join(MODULES, pkg, 'package.json');
  if (!existsSync(manifest)) return { problem: `${pkg} is not installed: ${INSTALL_HINT}` };
  const installed = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  if (installed !== pinned) return { problem: `${pkg} ${installed} is installed but ${pinned} is pinned: ${INSTALL_HINT}` };
  // Codex's and Gemini CLI's bins are node scripts (node is on the agents' PATH, see agentEnv).
  const candidates = name === 'claude' ? claudeCandidates() : name === 'opencode' ? openCodeCandidates() : [join(MODULES, '.bin', name)];
  const binary = candidates.find((p) => existsSync(p));
  return binary ? { binary } : { problem: `${pkg} has no runnable binary for ${process.platform}-${process.arch}: ${INSTALL_HINT}` };
}

/**
 * bin/claude.exe is a shell stub until the package's postinstall copies the native binary
 * over it, and we deny that script; so run the binary from the per-platform package instead.
 */
function claudeCandidates(): string[] {
  const wrapper = join(MODULES, PACKAGES.claude, 'bin', 'claude.exe');
  const patched = existsSync(wrapper) && statSync(wrapper).size > 1_000_000 ? [wrapper] : [];
  const platform = `${process.platform}-${process.arch}`;
  return [...patched, ...[platform, `${platform}-musl`].map((p) => join(MODULES, `${PACKAGES.claude}-${p}`, 'claude'))];
}

/**
 * OpenCode's bin/opencode.exe is also a stub until its (denied) postinstall links the native
 * binary there, so run the per-platform one: the AVX2 build where the CPU has it, else `baseline`.
 */
function openCodeCandidates(): string[] {
  const wrapper = join(MODULES, PACKAGES.opencode, 'bin', 'opencode.exe');
  const patched = existsSync(wrapper) && statSync(wrapper).size > 1_000_000 ? [wrapper] : [];
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const base = `opencode-${os}-${process.arch}`;
  const avx2 = process.arch !== 'x64' || (process.platform === 'linux' && /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')));
  const builds = avx2 ? [base, `${base}-baseline`] : [`${base}-baseline`];
  return [...patched, ...builds.flatMap((b) => [b, `${b}-musl`]).map((b) => join(MODULES, b, 'bin', 'opencode'))];
}

/** Isolated means: run-tests moved us into a fresh namespace, and only loopback is up in it. */
function isolationProblem(): string | undefined {
  if (process.env.LLM_CAPTURE_NETNS !== '1') {
    return 'not in an isolated network namespace: run `node scripts/run-tests.mjs` as root so the real CLIs cannot reach the internet';
  }
  const external = Object.entries(networkInterfaces()).filter(([, addrs]) => addrs?.some((a) => !a.internal));
  return external.length > 0 ? `LLM_CAPTURE_NETNS=1 but ${external.map(([n]) => n).join(', ')} is up: not isolated` : undefined;
}

export interface Scratch {
  root: string;
  home: string;
  codexHome: string;
  /** The agent's working directory. */
  work: string;
  cleanup(): void;
}

export function makeScratch(name: string): Scratch {
  const root = mkdtempSync(join(tmpdir(), `llmc-agent-${name}-`));
  const dirs = { home: join(root, 'home'), codexHome: join(root, 'home', '.codex'), work: join(root, 'work'), tmp: join(root, 'tmp') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return { root, ...dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * A minimal environment: none of the developer's keys, config or proxies leak in.
 * `proxyEnv` is the proxy's environment(); `extra` holds the fake keys and agent switches.
 */
export function agentEnv(scratch: Scratch, proxyEnv: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  return {
    // The Codex wrapper and Gemini CLI are node scripts, so node must be on PATH.
    PATH: [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: scratch.home,
    USER: userInfo().username,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: join(scratch.root, 'tmp'),
    XDG_CONFIG_HOME: join(scratch.home, '.config'),
    XDG_CACHE_HOME: join(scratch.home, '.cache'),
    XDG_DATA_HOME: join(scratch.home, '.local', 'share'),
    XDG_STATE_HOME: join(scratch.home, '.local', 'state'),
    CODEX_HOME: scratch.codexHome,
    ...proxyEnv,
    ...extra,
  };
}

export interface AgentRun {
  timeoutMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Ample for a CLI's cold start plus two model round trips on a loaded 2-core CI machine. */
export const AGENT_TIMEOUT_MS = 90_000;

/**
 * Runs a CLI with stdin closed, in its own process group, so that one kill ends it and
 * everything it started (Codex's sandboxed shells, Claude's Bash tool).
 */
export function runAgent(command: string, args: string[], opts: { env: Record<string, string>; cwd: string; timeoutMs?: number }): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? AGENT_TIMEOUT_MS;
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    // Leftover children (a stuck tool) would hold the pipes open; end them with the leader.
    child.on('exit', killGroup);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ timeoutMs, code, signal, timedOut, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** What to print when an assertion about a run fails. */
export function describeRun(run: AgentRun, more = ''): string {
  const tail = (s: string): string => (s.length > 6000 ? `…${s.slice(-6000)}` : s);
  const how = run.timedOut ? `timed out after ${run.timeoutMs} ms and was killed` : `exited with ${run.code ?? run.signal}`;
  return `the CLI ${how}\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}${more ? `\n--- ${more}` : ''}`;
}

export interface ExchangeRecord {
  method: string;
  url: string;
  upgrade: boolean;
  status?: number;
  /** Decoded text of the WebSocket messages, by direction. */
  wsMessages: { fromClient: string[]; fromServer: string[] };
  outcome?: ExchangeOutcome;
  error?: string;
}

export interface TapWatch {
  exchanges: ExchangeRecord[];
  /**
   * Connections that went wrong before any request: blind tunnels the proxy refused (the CLIs'
   * telemetry, updates…) and TLS handshakes the client gave up on (it did not trust our CA).
   */
  failedConnections: string[];
  /** Resolves once every exchange seen so far has ended, or after `maxMs` (then the test shows which did not). */
  settled(maxMs?: number): Promise<void>;
}

export interface CaptureProxy extends TapWatch {
  proxy: RunningProxy;
  close(): Promise<void>;
}

/** Records what crosses a proxy's tap: each exchange's head, status, text WebSocket messages and end. */
export function watchTap(tap: Tap): TapWatch {
  const exchanges = new Map<number, ExchangeRecord>();
  const connections = new Map<number, string>();
  const failedConnections: string[] = [];
  const wakers = new Set<() => void>();
  tap.subscribe((e) => {
    const target = 'connectionId' in e && e.connectionId !== undefined ? connections.get(e.connectionId) : undefined;
    if (e.type === 'connection-opened') connections.set(e.connectionId, `${e.mode} ${e.targetHost}:${e.targetPort}`);
    else if (e.type === 'connection-closed' && e.error && target?.startsWith('tunnel')) failedConnections.push(`${target}: ${e.error}`);
    else if (e.type === 'tls-handshake' && e.outcome !== 'ok') failedConnections.push(`${target}: TLS ${e.outcome}${e.detail ? ` (${e.detail})` : ''}`);
    else if (e.type === 'request-head') exchanges.set(e.exchangeId, { method: e.method, url: e.url, upgrade: e.upgrade, wsMessages: { fromClient: [], fromServer: [] } });
    const x = 'exchangeId' in e && e.exchangeId !== undefined ? exchanges.get(e.exchangeId) : undefined;
    if (!x) return;
    if (e.type === 'response-head') x.status = e.statusCode;
    else if (e.type === 'ws-message' && e.opcode === 'text') (e.direction === 'client-to-server' ? x.wsMessages.fromClient : x.wsMessages.fromServer).push(e.data.toString('utf8'));
    else if (e.type === 'exchange-end') {
      x.outcome = e.outcome;
      x.error = e.error;
      for (const wake of wakers) wake();
    }
  });
  return {
    get exchanges() {
      return [...exchanges.values()];
    },
    failedConnections,
    async settled(maxMs = 10_000) {
      // The tap delivers on a later turn: let what was already emitted arrive first.
      await new Promise((resolve) => setImmediate(resolve));
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        wakers.forEach((w) => w());
      }, maxMs);
      while (!expired && [...exchanges.values()].some((x) => !x.outcome)) {
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            wakers.delete(wake);
            resolve();
          };
          wakers.add(wake);
        });
      }
      clearTimeout(timer);
    },
  };
}

function hostMappings(mapped: Record<string, number>): HostMapping[] {
  return Object.entries(mapped).map(([host, port]) => parseMapping(`${host}:443=127.0.0.1:${port}`));
}

/**
 * The proxy as the product runs it, with each `mapped` host sent to a local fake and every
 * other upstream refused (onlyMapped), and a tap that records what crossed it.
 */
export async function startCaptureProxy(upstreamCa: string, mapped: Record<string, number>): Promise<CaptureProxy> {
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-agent-proxy-'));
  const tap = new Tap();
  const watch = watchTap(tap);
  const proxy = await startProxy({ dataDir, port: 0, upstreamCaFiles: [upstreamCa], tap, onlyMapped: true, map: hostMappings(mapped) }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  return {
    proxy,
    get exchanges() {
      return watch.exchanges;
    },
    failedConnections: watch.failedConnections,
    settled: (maxMs) => watch.settled(maxMs),
    async close() {
      await proxy.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CaptureRun extends TapWatch {
  service: CaptureService;
  /** Where the store (and the proxy's CA) live. */
  dataDir: string;
  /** Whatever the service logged at warn or error level. */
  problems: string[];
  /** Stops the service (the store's final snapshot is on disk after this); safe to call twice. */
  stop(): Promise<void>;
  /** Stops the service and removes its data directory. */
  close(): Promise<void>;
}

/**
 * The whole capture as the CLI and the extension run it (CaptureService: proxy, recorder and a
 * writer store in a fresh data directory), mapped to local fakes like startCaptureProxy.
 */
export async function startCaptureService(upstreamCa: string, mapped: Record<string, number>): Promise<CaptureRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'llmc-agent-capture-'));
  const problems: string[] = [];
  const service = await CaptureService.start({
    dataDir, port: 0, upstreamCaFiles: [upstreamCa], onlyMapped: true, map: hostMappings(mapped),
    log: (level, message) => {
      if (level === 'warn' || level === 'error') problems.push(`${level}: ${message}`);
    },
  }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  const watch = watchTap(service.proxy.tap);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= service.stop());
  return {
    service,
    dataDir,
    problems,
    get exchanges() {
      return watch.exchanges;
    },
    failedConnections: watch.failedConnections,
    settled: (maxMs) => watch.settled(maxMs),
    stop,
    async close() {
      try {
        await stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** One line per exchange, for failure messages. */
export function describeExchanges(exchanges: ExchangeRecord[], failedConnections: string[]): string {
  const lines = exchanges.map((x) => `${x.method} ${x.url} → ${x.status ?? '-'} ${x.outcome ?? 'unfinished'}${x.error ? ` (${x.error})` : ''}`);
  return [...lines, ...failedConnections].join('\n') || '(nothing)';
}
