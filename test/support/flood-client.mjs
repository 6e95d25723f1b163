// A client in a process of its own, so that it keeps its pace whatever the test's thread does:
// sends COUNT sequential POSTs of 2 KB to https://HOST/upload through the proxy on 127.0.0.1:PORT
// over one kept-alive tunnel, trusting CA_FILE, and prints {"ok":N,"failed":M} when done.
// Usage: node flood-client.mjs PORT CA_FILE HOST COUNT
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';

const [port, caFile, host, count] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');

class TunnelAgent extends Agent {
  createConnection(options, callback) {
    const req = httpRequest({ host: '127.0.0.1', port: Number(port), method: 'CONNECT', path: `${host}:443`, agent: false });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) return callback(new Error(`CONNECT ${res.statusCode}`));
      const tls = connect({ socket, servername: host, ca, ALPNProtocols: ['http/1.1'] });
      tls.once('secureConnect', () => callback(null, tls));
      tls.once('error', (e) => callback(e));
    });
    req.once('error', (e) => callback(e));
    req.end();
    return undefined;
  }
}

const agent = new TunnelAgent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ pad: 'x'.repeat(2000) });
let ok = 0;
let failed = 0;
for (let i = 0; i < Number(count); i++) {
  const status = await new Promise((resolve) => {
    const req = request({ host, port: 443, method: 'POST', path: `/upload?n=${i}`, agent, headers: { 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
  if (status === 200) ok++;
  else failed++;
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ ok, failed })}\n`);
