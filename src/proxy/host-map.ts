// `--map HOST:PORT=ADDR:PORT`: dial another address for a host while keeping its TLS name,
// so tests and air-gapped setups can stand a local server in for api.anthropic.com.
import { stripBrackets } from './intercept-policy';

export interface HostPort {
  host: string;
  port: number;
}

export interface HostMapping {
  from: HostPort;
  to: HostPort;
}

export function parseHostPort(text: string, what: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new Error(`${what} "${text}" is not HOST:PORT`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`${what} "${text}" has a port out of range`);
  return { host: stripBrackets(m[1].toLowerCase()), port };
}

export function parseMapping(text: string): HostMapping {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`mapping "${text}" is not HOST:PORT=ADDR:PORT`);
  return { from: parseHostPort(text.slice(0, eq), 'mapping source'), to: parseHostPort(text.slice(eq + 1), 'mapping target') };
}

export class HostMap {
  private readonly table = new Map<string, HostPort>();

  constructor(mappings: readonly HostMapping[] = []) {
    for (const m of mappings) this.table.set(key(m.from), m.to);
  }

  get size(): number {
    return this.table.size;
  }

  /** The address to dial for a host and port, or undefined when it is not mapped. */
  lookup(host: string, port: number): HostPort | undefined {
    return this.table.get(key({ host: stripBrackets(host.toLowerCase()), port }));
  }
}

function key(hp: HostPort): string {
  return `${hp.host}:${hp.port}`;
}
