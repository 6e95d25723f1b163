// Certificates for the demo's model server, from a CA of its own (not the proxy's): the proxy
// verifies every upstream, so it is told to trust this CA with `upstreamCaFiles`, exactly as a
// user points it at a local gateway. The CA is constrained to the two API hosts it stands in for.
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { loadOrCreateCa } from '../proxy/ca';
import { LeafCertificates } from '../proxy/certificates';

export const DEMO_HOSTS = ['api.anthropic.com', 'api.openai.com'] as const;

export interface FakeUpstreamTls {
  /** The CA's certificate file, for the proxy's upstreamCaFiles. */
  caFile: string;
  /** The server's context for a host name (SNI). */
  contextFor(host: string): SecureContext;
}

export async function fakeUpstreamTls(dataDir: string): Promise<FakeUpstreamTls> {
  const ca = await loadOrCreateCa(join(dataDir, 'fake-upstream'), DEMO_HOSTS);
  const leaves = await LeafCertificates.create(ca, { validityDays: 2 });
  await leaves.prewarm();
  return { caFile: ca.files.certPath, contextFor: (host) => leaves.secureContextFor(host) };
}
