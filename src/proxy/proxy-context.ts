// State shared by the parts of one running proxy: ids, policy, the tap, and what each
// client-side socket is a tunnel to.
import type { Socket } from 'node:net';
import type { HostMap } from './host-map';
import type { InterceptPolicy } from './intercept-policy';
import type { ProxyOptions } from './options';
import type { Tap, TapEvent } from './tap';
import type { UpstreamConnector } from './upstream-connector';

export type Logger = NonNullable<ProxyOptions['log']>;

/** What an intercepted (or plain-HTTP) client connection is talking to. */
export interface ClientConnection {
  id: number;
  scheme: 'https' | 'http';
  /** The host and port the client asked for (CONNECT target or absolute URL). */
  host: string;
  port: number;
  label?: string;
  /** Whether exchanges on it are reported to the tap (false for plain HTTP to other hosts). */
  captured: boolean;
}

export class ProxyContext {
  private nextConnectionId: number;
  private nextExchangeId: number;
  /** Intercepted TLS sockets (and plain sockets) → what they are connected to. */
  readonly connections = new WeakMap<Socket, ClientConnection>();
  /** Every socket we hold, so that close() can end them. */
  readonly sockets = new Set<Socket>();

  constructor(
    readonly tap: Tap,
    readonly policy: InterceptPolicy,
    readonly hostMap: HostMap,
    readonly upstream: UpstreamConnector,
    readonly log: Logger,
    readonly onlyMapped: boolean,
    firstId = 1,
  ) {
    this.nextConnectionId = firstId;
    this.nextExchangeId = firstId;
  }

  newConnectionId(): number {
    return this.nextConnectionId++;
  }

  newExchangeId(): number {
    return this.nextExchangeId++;
  }

  emit(event: TapEvent): void {
    this.tap.emit(event);
  }

  track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Why an upstream must not be dialled, or undefined when it may be. */
  refusal(host: string, port: number): string | undefined {
    if (this.onlyMapped && !this.hostMap.lookup(host, port)) {
      return `llm-capture: refusing to connect to ${host}:${port}: it is not mapped and --only-mapped is set`;
    }
    return undefined;
  }
}
