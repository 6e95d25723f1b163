// What the proxy can be told. The CLI and the extension both build one of these.
import type { HostMapping } from './host-map';
import type { Tap } from './tap';
import type { UpstreamTimeouts } from './upstream-connector';

export interface ProxyAuth {
  /** The secret every client must present as the password of its proxy credentials. */
  token: string;
  /** When true, a request without valid credentials gets 407 (or a refused CONNECT). */
  required: boolean;
}

export interface ProxyOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Where the CA lives (ca.pem 0644, ca-key.pem 0600, ca-bundle.pem). */
  dataDir: string;
  /** Host patterns to decrypt; defaults to DEFAULT_INTERCEPT_HOSTS. */
  intercept?: readonly string[];
  /** Extra PEM files trusted for upstream servers, beside the system roots. */
  upstreamCaFiles?: readonly string[];
  /** Chain every upstream connection through this HTTP proxy (http://[user:pass@]host:port). */
  upstreamProxy?: string;
  /** Dial another address for a host, keeping its TLS name. */
  map?: readonly HostMapping[];
  /** Refuse every upstream that is not in `map`. */
  onlyMapped?: boolean;
  auth?: ProxyAuth;
  /** How long each upstream phase may stay silent; defaults to DEFAULT_UPSTREAM_TIMEOUTS. */
  upstreamTimeouts?: Partial<UpstreamTimeouts>;
  /** The first connection and exchange id (a restarted proxy continues above its predecessor's ids). */
  firstId?: number;
  tap?: Tap;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}
