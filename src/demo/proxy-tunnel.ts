// How the demo's clients reach the API hosts: like an agent with HTTPS_PROXY and
// NODE_EXTRA_CA_CERTS, they send CONNECT host:443 to the proxy (with proxy credentials whose
// user name labels the connection) and speak TLS inside the tunnel, trusting only the proxy's CA.
// Plain requests, so that VS Code's patch of http.request cannot reroute them (docs/decisions.md, decision 26).
import type { IncomingMessage } from 'node:http';
import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { plainRequest } from '../proxy/plain-request';

export interface ProxyEndpoint {
  port: number;
  /** The proxy's CA certificate (PEM): the only one the clients trust. */
  caPem: string;
  token: string;
}

export function tlsThroughProxy(proxy: ProxyEndpoint, label: string, host: string, port = 443): Promise<TLSSocket> {
  const credentials = Buffer.from(`${label}:${proxy.token}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = plainRequest('http', {
      host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `${host}:${port}`, agent: false,
      headers: { host: `${host}:${port}`, 'proxy-authorization': `Basic ${credentials}` },
    });
    req.once('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy refused CONNECT ${host}:${port} with ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      const tls = connect({ socket, servername: host, ca: proxy.caPem, ALPNProtocols: ['http/1.1'] });
      tls.once('secureConnect', () => resolve(tls));
      tls.once('error', (e) => {
        socket.destroy();
        reject(new Error(`TLS with ${host} through the proxy failed: ${e.message}`));
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/** An https.Agent whose one connection is a fresh tunnel to `host`, for an HTTP request or a WebSocket. */
export async function agentThroughProxy(proxy: ProxyEndpoint, label: string, host: string): Promise<Agent> {
  const socket = await tlsThroughProxy(proxy, label, host);
  const agent = new Agent({ keepAlive: false });
  agent.createConnection = () => socket;
  return agent;
}
