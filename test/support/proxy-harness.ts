// One fake upstream (HTTPS and plain HTTP), a test PKI, and a proxy mapped onto them, with
// every tap event recorded. The proxy refuses anything unmapped, so nothing leaves loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMapping, startProxy, Tap, type ProxyOptions, type RunningProxy, type TapEvent } from '../../src/proxy';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { TunnelAgent, type ProxyTarget } from './proxied-request';
import { createTestPki, type TestPki } from './test-pki';
import type { AgentOptions } from 'node:https';

/**
 * The timeout of a test that would hang if the proxy buffered or lost an event: long enough for
 * a loaded machine, short enough to fail soon. Tests never assert how long anything took.
 */
export const DEADLOCK_TIMEOUT = 10_000;

/** Intercepted and mapped to the fake. */
export const ANTHROPIC = 'api.anthropic.com';
export const OPENAI = 'api.openai.com';
/** Intercepted but not mapped: refused under onlyMapped. */
export const UNMAPPED_INTERCEPTED = 'api.mistral.ai';
/** Intercepted and mapped to a port where nothing listens. */
export const DEAD_HOST = 'api.groq.com';
/** Not intercepted, mapped to the fake: a blind tunnel. */
export const BLIND_HOST = 'blind.example.test';
/** Neither intercepted nor mapped. */
export const UNMAPPED_BLIND = 'elsewhere.example.test';
/** Plain HTTP, mapped to the plain fake on port 80. */
export const PLAIN_HOST = 'plain.example.test';

export type EventOf<T extends TapEvent['type']> = Extract<TapEvent, { type: T }>;

export interface ProxyUnderTest {
  proxy: RunningProxy;
  events: TapEvent[];
  /** Where a client goes, with our CA trusted; `label` adds proxy credentials. */
  target(label?: string, token?: string): ProxyTarget;
  agent(options?: AgentOptions, label?: string): TunnelAgent;
  /** Resolves with the first recorded (or future) event of a type that matches. */
  waitFor<T extends TapEvent['type']>(type: T, match?: (e: EventOf<T>) => boolean): Promise<EventOf<T>>;
}

export interface Harness extends ProxyUnderTest {
  pki: TestPki;
  fake: FakeUpstream;
  plain: FakeUpstream;
  /** Another proxy over the same fakes, with different options; closed with the harness. */
  startProxy(overrides?: Partial<ProxyOptions>): Promise<ProxyUnderTest>;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<ProxyOptions> = {}): Promise<Harness> {
  const pki = createTestPki();
  const fake = await startFakeUpstream(pki.serverCert([ANTHROPIC, OPENAI, BLIND_HOST, 'localhost', '127.0.0.1']));
  const plain = await startFakeUpstream();
  const deadPort = await closedPort();
  const dirs: string[] = [pki.dir];
  const proxies: RunningProxy[] = [];
  const agents: TunnelAgent[] = [];

  const start = async (more: Partial<ProxyOptions>): Promise<ProxyUnderTest> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'llmc-proxy-test-'));
    dirs.push(dataDir);
    const tap = more.tap ?? new Tap();
    const events: TapEvent[] = [];
    const waiters = new Set<(e: TapEvent) => void>();
    tap.subscribe((e) => {
      events.push(e);
      for (const w of waiters) w(e);
    });
    const proxy = await startProxy({
      dataDir,
      port: 0,
      intercept: [ANTHROPIC, OPENAI, UNMAPPED_INTERCEPTED, DEAD_HOST],
      upstreamCaFiles: [pki.caCertPath],
      map: [
        parseMapping(`${ANTHROPIC}:443=127.0.0.1:${fake.port}`),
        parseMapping(`${OPENAI}:443=127.0.0.1:${fake.port}`),
        parseMapping(`${BLIND_HOST}:443=127.0.0.1:${fake.port}`),
        parseMapping(`${DEAD_HOST}:443=127.0.0.1:${deadPort}`),
        parseMapping(`${PLAIN_HOST}:80=127.0.0.1:${plain.port}`),
      ],
      onlyMapped: true,
      ...more,
      tap,
    });
    proxies.push(proxy);
    const target = (label?: string, token = 'secret'): ProxyTarget => ({
      proxyUrl: label === undefined ? proxy.url : proxy.url.replace('://', `://${encodeURIComponent(label)}:${encodeURIComponent(token)}@`),
      ca: proxy.ca.certPem,
    });
    return {
      proxy,
      events,
      target,
      agent: (options, label) => {
        const agent = new TunnelAgent(target(label), options);
        agents.push(agent);
        return agent;
      },
      waitFor: <T extends TapEvent['type']>(type: T, match: (e: EventOf<T>) => boolean = () => true) => {
        const hit = (e: TapEvent): e is EventOf<T> => e.type === type && match(e as EventOf<T>);
        const found = events.find(hit);
        if (found) return Promise.resolve(found);
        return new Promise<EventOf<T>>((resolve) => {
          const w = (e: TapEvent): void => {
            if (!hit(e)) return;
            waiters.delete(w);
            resolve(e);
          };
          waiters.add(w);
        });
      },
    };
  };

  const main = await start(overrides);
  return {
    ...main,
    pki,
    fake,
    plain,
    startProxy: start,
    close: async () => {
      for (const a of agents) a.destroy();
      await Promise.allSettled(proxies.map((p) => p.close()));
      await Promise.allSettled([fake.close(), plain.close()]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** A loopback port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
