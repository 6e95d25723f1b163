// TLS secure contexts for intercepted hosts, issued on first use and cached. One leaf key serves
// every host, so a new host costs one native RSA signature by the CA, not a key generation (docs/decisions.md,
// decision 5). ALPN is the server's business, not the context's.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateAuthority } from './ca';
import { createLeafIssuer, issueLeaf, issueLeafAsync, normalizeHost, type IssuedLeaf, type LeafIssuer } from './cert-leaf';
import { generateLeafKey } from './cert-signing';
import { InterceptPolicy } from './intercept-policy';

export interface LeafCertificatesOptions {
  /** Lifetime of a leaf; short, because it is re-issued for free. Default 30, at most 397. */
  validityDays?: number;
  /** Hosts kept in the cache; the least recently used is dropped beyond this. Default 1000. */
  maxHosts?: number;
  /** The clock, in ms since the epoch (tests move it). */
  now?: () => number;
}

interface CachedContext {
  context: SecureContext;
  /** A safety margin before the certificate's notAfter, so that no client sees it expire. */
  expiresAt: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const RENEW_MARGIN_MS = DAY_MS;

export class LeafCertificates {
  private readonly cache = new Map<string, CachedContext>();
  private readonly policy: InterceptPolicy;
  private issued = 0;

  private constructor(
    private readonly issuer: LeafIssuer,
    private readonly keyPem: string,
    private readonly validityDays: number,
    private readonly maxHosts: number,
    private readonly now: () => number,
  ) {
    this.policy = new InterceptPolicy(issuer.ca.patterns);
  }

  /** Generates the one shared P-256 leaf key, natively and asynchronously. */
  static async create(ca: CertificateAuthority, options: LeafCertificatesOptions = {}): Promise<LeafCertificates> {
    const { validityDays = 30, maxHosts = 1000, now = Date.now } = options;
    // Browsers cap leaves at 398 days; below two days the renewal margin would eat the lifetime.
    if (!(validityDays >= 2 && validityDays <= 397)) throw new RangeError(`validityDays ${validityDays} is not in 2..397`);
    if (!(maxHosts >= 1)) throw new RangeError(`maxHosts ${maxHosts} must be at least 1`);
    const key = await generateLeafKey();
    const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    return new LeafCertificates(createLeafIssuer(ca, key), keyPem, validityDays, maxHosts, now);
  }

  /** How many leaf certificates were issued, re-issues included. */
  get issuedCount(): number {
    return this.issued;
  }

  /**
   * The context for a host, issuing its certificate on first use (a few ms, synchronous, so it
   * fits an SNICallback). Throws for a host outside the CA's patterns: clients would refuse
   * such a leaf anyway, because of the name constraints.
   */
  secureContextFor(hostname: string): SecureContext {
    const host = this.checkedHost(hostname);
    return this.cached(host) ?? this.store(host, issueLeaf(this.issuer, host, this.validityDays, this.now()));
  }

  /**
   * Issues contexts ahead of time with the signatures in the thread pool, so that the first
   * handshake to these hosts finds them ready. Wildcard patterns and hosts that are cached or
   * not covered are skipped; by default the CA's exact patterns are warmed. Returns how many
   * contexts were issued.
   */
  async prewarm(hosts: readonly string[] = this.issuer.ca.patterns): Promise<number> {
    let count = 0;
    for (const candidate of hosts) {
      if (candidate.startsWith('*.')) continue;
      const host = normalizeHost(candidate);
      if (!this.policy.shouldIntercept(host) || this.cached(host)) continue;
      const leaf = await issueLeafAsync(this.issuer, host, this.validityDays, this.now());
      // A handshake may have issued it meanwhile; keep that one.
      if (!this.cached(host)) {
        this.store(host, leaf);
        count++;
      }
    }
    return count;
  }

  private checkedHost(hostname: string): string {
    const host = normalizeHost(hostname);
    if (!this.policy.shouldIntercept(host)) {
      throw new Error(`no certificate for ${host}: it is outside the CA's intercepted hosts`);
    }
    return host;
  }

  /** A live cached context, refreshed as the most recently used; expired ones are dropped. */
  private cached(host: string): SecureContext | undefined {
    const entry = this.cache.get(host);
    if (!entry) return undefined;
    this.cache.delete(host);
    if (entry.expiresAt <= this.now()) return undefined;
    this.cache.set(host, entry);
    return entry.context;
  }

  private store(host: string, leaf: IssuedLeaf): SecureContext {
    const context = createSecureContext({ key: this.keyPem, cert: leaf.certPem });
    this.issued++;
    this.cache.set(host, { context, expiresAt: leaf.notAfter.getTime() - RENEW_MARGIN_MS });
    // A Map iterates in insertion order, and hits are re-inserted: the first key is the LRU one.
    while (this.cache.size > this.maxHosts) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
    return context;
  }
}
