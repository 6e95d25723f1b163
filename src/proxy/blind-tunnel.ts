// A CONNECT to a host we do not intercept: bytes are piped both ways without being read.
// Only the connection is recorded (docs/architecture.md, "The proxy"; plain HTTP to such a host
// follows the same rule, docs/decisions.md, decision 9).
import type { Socket } from 'node:net';
import type { ProxyContext } from './proxy-context';
import { now } from './tap';
import { UpstreamTimeoutError } from './upstream-connector';

export function openBlindTunnel(ctx: ProxyContext, connectionId: number, client: Socket, head: Buffer, host: string, port: number): void {
  const refusal = ctx.refusal(host, port);
  if (refusal) {
    rejectConnect(client, 502, refusal);
    closed(refusal, 502);
    return;
  }
  // A client that leaves while the upstream is still being dialled releases that connection.
  const clientGone = new AbortController();
  const onClientClose = (): void => clientGone.abort();
  client.once('close', onClientClose);
  ctx.upstream.connectTcp(host, port, (err, upstream) => {
    client.removeListener('close', onClientClose);
    if (err || !upstream) {
      const reason = `llm-capture: cannot reach ${ctx.upstream.describeTarget(host, port)}: ${err?.message ?? 'no socket'}`;
      if (!client.destroyed) rejectConnect(client, err instanceof UpstreamTimeoutError ? 504 : 502, reason);
      closed(reason, 502);
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    let fromClient = head.length;
    let toClient = 0;
    client.on('data', (d: Buffer) => (fromClient += d.length));
    upstream.on('data', (d: Buffer) => (toClient += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
    let error: string | undefined;
    // A reset on one side is passed on as a reset, so neither peer mistakes it for a clean end.
    client.on('error', (e) => { error ??= `client: ${e.message}`; upstream.destroy(); });
    upstream.on('error', (e) => { error ??= `upstream: ${e.message}`; client.resetAndDestroy(); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      client.destroySoon?.();
      ctx.emit({ type: 'connection-closed', connectionId, time: now(), bytesFromClient: fromClient, bytesToClient: toClient, ...(error ? { error } : {}) });
    });
  }, clientGone.signal);

  function closed(error: string, connectStatus: number): void {
    ctx.emit({ type: 'connection-closed', connectionId, time: now(), bytesFromClient: 0, bytesToClient: 0, error, connectStatus });
  }
}

/** Answers a CONNECT with an error status and a plain-text reason, then closes. */
export function rejectConnect(client: Socket, status: number, reason: string, extraHead = ''): void {
  const body = `${reason}\n`;
  const text = status === 407 ? 'Proxy Authentication Required' : status === 400 ? 'Bad Request' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway';
  const head = extraHead || `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n`;
  client.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
