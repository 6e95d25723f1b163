// The columns of the table: how each one is started, how a client reaches the fake through it,
// and how it is stopped. Each proxy is started fresh for its column, with an empty state
// directory, so its "new host" handshakes really are its first for those names.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPki } from '../test/support/test-pki';
import type { Route } from './client';
import type { RouteFor } from './measure';
import type { ChildConfig } from './proxy-child';
import { launchMitmdump } from './mitmdump';
import { BENCH_DIR, ROOT, jsonLine, nodeArgs, startChild } from './processes';

export interface Fake {
  port: number;
  ca: Buffer;
  caPath: string;
}

/**
 * The fake upstream (fake-upstream.ts) in a process of its own, so its pacing timers share no loop
 * with the client, serving a certificate for `names` from a fresh test CA. `stop` also removes the CA.
 */
export async function launchFakeUpstream(names: string[]): Promise<{ fake: Fake; stop(): Promise<void> }> {
  const pki = createTestPki();
  const leaf = pki.serverCert(names);
  const keyPath = join(pki.dir, 'fake.key');
  const certPath = join(pki.dir, 'fake.pem');
  writeFileSync(keyPath, leaf.key, { mode: 0o600 });
  writeFileSync(certPath, leaf.cert);
  const { child, ready } = await startChild(process.execPath, nodeArgs('fake-upstream.ts', [keyPath, certPath]), { readyFrom: jsonLine });
  return {
    fake: { port: (ready as { port: number }).port, ca: Buffer.from(pki.caCert), caPath: pki.caCertPath },
    async stop() {
      await child.stop();
      rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}

export interface Running {
  routeFor: RouteFor;
  /** The proxy's process, for its CPU time; none for direct. */
  pid?: number;
  stop(): Promise<void>;
}

export interface Candidate {
  name: string;
  /** Why the column cannot run on this machine, or undefined when it can. */
  unavailable(): string | undefined;
  version(): string;
  start(fake: Fake): Promise<Running>;
}

/** Every name the measurements use: ours needs a map entry for each (the fake's certificate covers them all). */
export const NEW_HOST_COUNT = 20;
const HOSTS = ['api.anthropic.com', 'warmup.bench.test', ...Array.from({ length: NEW_HOST_COUNT }, (_, i) => `h${i + 1}.bench.test`)];

// mitmproxy and mockttp are reached by CONNECT 127.0.0.1:<fake port>, then TLS with the name the
// client wants (SNI) and the same Host header: no DNS is involved, each dials the CONNECT address
// as it would dial api.anthropic.com, mints its certificate for the SNI name and verifies the
// fake's certificate against that name.
const viaIp = (fake: Fake, proxyPort: number, ca: Buffer): RouteFor => (host): Route =>
  ({ proxyPort, connectHost: '127.0.0.1', connectPort: fake.port, servername: host, ca });

// Ours decides interception, minting, upstream verification and upstream pooling by the CONNECT
// host, as a real agent drives it (CONNECT api.anthropic.com:443). So it gets the name, and its
// --map table (an exact-match lookup, standing in for the DNS the others also skip) dials the fake.
// Reached by IP it would share one upstream pool across all names, flattering "first GET".
const viaName = (proxyPort: number, ca: Buffer): RouteFor => (host): Route =>
  ({ proxyPort, connectHost: host, connectPort: 443, servername: host, ca });

const direct: Candidate = {
  name: 'direct',
  unavailable: () => undefined,
  version: () => `node ${process.version}`,
  async start(fake) {
    return { routeFor: (host) => ({ connectHost: '127.0.0.1', connectPort: fake.port, servername: host, ca: fake.ca }), stop: async () => {} };
  },
};

function profileFlags(kind: string): string[] {
  if (process.env.BENCH_PROFILE !== '1') return [];
  const dir = join(BENCH_DIR, 'results', 'profiles', kind);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/**
 * A proxy in a Node child. `tunnelOnly` runs ours with nothing intercepted, so every CONNECT is a
 * blind TCP tunnel and the client's TLS reaches the fake itself: the cost of the extra process
 * hop alone, the floor under any intercepting proxy's figures.
 */
function nodeProxy(name: string, kind: ChildConfig['kind'], tunnelOnly = false, module?: string): Candidate {
  const ours = kind !== 'mockttp';
  return {
    name,
    unavailable() {
      if (module) return existsSync(module) ? undefined : `${module} does not exist`;
      if (ours) return existsSync(join(ROOT, 'src', 'proxy', 'proxy-server.ts')) ? undefined : 'src/proxy/proxy-server.ts does not exist yet';
      return existsSync(join(BENCH_DIR, 'node_modules', 'mockttp', 'package.json')) ? undefined : 'mockttp is not installed: run `npm install --prefix bench`';
    },
    version() {
      if (module) return `${name}: ${module}`;
      if (ours) return `llm-capture ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version} (work tree)`;
      return `mockttp ${(JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', 'mockttp', 'package.json'), 'utf8')) as { version: string }).version}`;
    },
    async start(fake) {
      const config: ChildConfig = {
        kind,
        module,
        upstreamCa: fake.caPath,
        intercept: tunnelOnly ? ['nothing.invalid'] : ['api.anthropic.com', '*.bench.test'],
        map: HOSTS.map((host) => ({ from: { host, port: 443 }, to: { host: '127.0.0.1', port: fake.port } })),
      };
      const { child, ready } = await startChild(process.execPath, nodeArgs('proxy-child.ts', [], profileFlags(kind)), {
        env: { ...process.env, BENCH_PROXY: JSON.stringify(config) },
        readyFrom: jsonLine,
      });
      const { port, caCertPath } = ready as { port: number; caCertPath: string };
      const ca = tunnelOnly ? fake.ca : readFileSync(caCertPath);
      return { routeFor: ours ? viaName(port, ca) : viaIp(fake, port, ca), pid: child.proc.pid, stop: () => child.stop() };
    },
  };
}

const mitmproxy: Candidate = {
  name: 'mitmproxy',
  unavailable() {
    try {
      execFileSync('mitmdump', ['--version'], { stdio: 'ignore' });
      return undefined;
    } catch {
      return 'mitmdump is not on PATH (Debian: apt-get install mitmproxy)';
    }
  },
  version() {
    const out = execFileSync('mitmdump', ['--version'], { encoding: 'utf8' });
    return `mitmproxy ${/Mitmproxy:\s*(\S+)/.exec(out)?.[1] ?? '?'}`;
  },
  async start(fake) {
    // Stream every body instead of buffering it whole (its default buffers).
    const m = await launchMitmdump(fake.caPath, 'llmc-bench-mitm-', () => ['--set', 'stream_large_bodies=1']);
    return { routeFor: viaIp(fake, m.port, m.ca), pid: m.child.proc.pid, stop: () => m.child.stop().finally(m.cleanup) };
  },
};

// BENCH_OURS_VARIANTS="name=/path/to/index.ts;other=/path/…" adds a column per patched copy of
// src/proxy, measured in the same run as the current code (the lead's what-if tool).
const variants = (process.env.BENCH_OURS_VARIANTS ?? '').split(';').filter((v) => v.includes('=')).map((v) => {
  const eq = v.indexOf('=');
  return nodeProxy(`ours[${v.slice(0, eq).trim()}]`, 'ours', false, v.slice(eq + 1).trim());
});

export const CANDIDATES: Candidate[] = [
  direct,
  nodeProxy('ours', 'ours'),
  nodeProxy('ours+tap', 'ours-tap'),
  nodeProxy('ours+capture', 'ours-capture'),
  nodeProxy('ours+capture:1thread', 'ours-capture-1thread'),
  ...variants,
  nodeProxy('ours:tunnel', 'ours', true),
  mitmproxy,
  nodeProxy('mockttp', 'mockttp'),
];
