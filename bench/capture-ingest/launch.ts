// Starting our proxy's bench child (ours-child.ts), as bench/capture-ingest-bench.ts and
// bench/load-bench.ts both run it: a process of its own, its store (capture mode) in a fresh
// temporary directory, reached as an agent reaches the proxy.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from '../client';
import { jsonLine, nodeArgs, startChild, type Child } from '../processes';
import type { OursChildConfig } from './ours-child';

/** The fake upstream both benches start: its port on 127.0.0.1 and the CA its certificate is signed by. */
export interface Fake {
  port: number;
  ca: Buffer;
  caPath: string;
}

export interface OursChild {
  child: Child;
  route: Route;
  dataDir: string;
}

/** `host`: the name agents CONNECT to; the child's map dials the fake for it. */
export async function launchOursChild(fake: Fake, mode: OursChildConfig['mode'], host: string, dirPrefix: string, nodeFlags: string[] = []): Promise<OursChild> {
  const dataDir = mkdtempSync(join(tmpdir(), `${dirPrefix}${mode}-`));
  const config: OursChildConfig = { mode, dataDir, upstreamCa: fake.caPath, fakePort: fake.port, host };
  const { child, ready } = await startChild(process.execPath, nodeArgs('capture-ingest/ours-child.ts', [], nodeFlags), {
    env: { ...process.env, BENCH_INGEST: JSON.stringify(config) },
    readyFrom: jsonLine,
  });
  const { port, caCertPath } = ready as { port: number; caCertPath: string };
  // Ours decides interception, minting and upstream verification by the CONNECT host, as an agent
  // drives it (CONNECT api.anthropic.com:443).
  return { child, dataDir, route: { proxyPort: port, connectHost: host, connectPort: 443, servername: host, ca: readFileSync(caCertPath) } };
}
