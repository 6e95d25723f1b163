// The demo, start to end: a fresh store in the demo's own directory, the model server on
// loopback, the real capturing proxy mapped to it (refusing every other upstream), both scripted
// clients through the proxy, then everything stopped and the captured sessions read back.
// Nothing leaves 127.0.0.1, and the user's own data directory is never touched.
import { randomBytes } from 'node:crypto';
import { CaptureService } from '../app/capture-service';
import type { Tap } from '../proxy';
import { assembleSessions } from '../app/session-index';
import type { SessionSummary } from '../conversation';
import { CaptureStore } from '../store';
import { runClaudeLike } from './claude-client';
import { runCodexLike } from './codex-client';
import { prepareDemoDir } from './demo-dir';
import { DEMO_HOSTS, fakeUpstreamTls } from './fake-upstream-tls';
import { startModelServer } from './model-server';

export type DemoLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface DemoOptions {
  /** The demo's own directory (created and marked on first use; refused if it holds other captures). */
  dataDir: string;
  log?: DemoLog;
}

export interface DemoResult {
  dataDir: string;
  /** The Claude Code-like session (a Bash call and a subagent): the one to look at first. */
  claudeSessionId: string;
  /** The Codex-like session over a WebSocket. */
  codexSessionId: string;
  /** What the store holds now, newest first. */
  sessions: SessionSummary[];
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { dataDir } = options;
  const log = options.log ?? (() => undefined);
  await prepareDemoDir(dataDir);
  const tls = await fakeUpstreamTls(dataDir);
  const server = await startModelServer(tls);
  let claudeSessionId: string;
  let codexSessionId: string;
  try {
    const token = randomBytes(16).toString('hex');
    const service = await CaptureService.start({
      dataDir,
      port: 0,
      intercept: [...DEMO_HOSTS],
      // As a user would point the proxy at a local gateway: same names, another address, its CA trusted.
      map: DEMO_HOSTS.map((host) => ({ from: { host, port: 443 }, to: { host: '127.0.0.1', port: server.port } })),
      onlyMapped: true,
      upstreamCaFiles: [tls.caFile],
      auth: { token, required: true },
      log,
    });
    const connections = openConnections(service.proxy.tap);
    try {
      const proxy = { port: service.proxy.port, caPem: service.proxy.ca.certPem, token };
      claudeSessionId = await runClaudeLike(proxy);
      codexSessionId = await runCodexLike(proxy);
      // The clients have hung up; let the proxy record each connection's end before it stops.
      await connections.closed();
    } finally {
      connections.dispose();
      await service.stop();
    }
  } finally {
    await server.close();
  }
  const sessions = await readSessions(dataDir, log);
  for (const id of [claudeSessionId, codexSessionId]) {
    if (!sessions.some((s) => s.id === id)) throw new Error(`the demo ran, but session ${id} is not in ${dataDir}; see the log`);
  }
  return { dataDir, claudeSessionId, codexSessionId, sessions };
}

/** Follows the proxy's connections, to wait until every one has closed. */
function openConnections(tap: Tap): { closed(): Promise<void>; dispose(): void } {
  const open = new Set<number>();
  let wake: (() => void) | undefined;
  const unsubscribe = tap.subscribe((event) => {
    if (event.type === 'connection-opened') open.add(event.connectionId);
    if (event.type === 'connection-closed') open.delete(event.connectionId);
    if (open.size === 0) wake?.();
  });
  return {
    closed: () => (open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      // Bounded: a connection that never reports its end must not hang the demo.
      const timer = setTimeout(resolve, 5_000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    })),
    dispose: unsubscribe,
  };
}

async function readSessions(dataDir: string, log: DemoLog): Promise<SessionSummary[]> {
  const store = await CaptureStore.open({ dataDir, mode: 'reader', log: (level, m) => log(level, `store: ${m}`) });
  try {
    return assembleSessions(store).sessions().sort((a, b) => b.startedAt - a.startedAt);
  } finally {
    await store.close();
  }
}
