// The upstream of the fuzz runs: an HTTPS server on 127.0.0.1 that answers each request with the
// response its case scripted (status, headers, body pieces sent one by one, a clean end or a reset)
// and records the request body it received, so both directions can be compared byte for byte.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ScriptedResponse {
  status: number;
  headers: [string, string][];
  pieces: Buffer[];
  /** 'reset': the connection is reset after the last piece instead of the body ending. */
  end: 'clean' | 'reset';
}

export interface ScriptedUpstream {
  port: number;
  /** The response for requests whose URL carries `case=<id>`. */
  script(id: string, response: ScriptedResponse): void;
  /** The request body received for a case (undefined until it has fully arrived). */
  received(id: string): Buffer | undefined;
  close(): Promise<void>;
}

export async function startScriptedUpstream(tls: { key: string; cert: string }): Promise<ScriptedUpstream> {
  const scripts = new Map<string, ScriptedResponse>();
  const bodies = new Map<string, Buffer>();
  const sockets = new Set<Socket>();
  // The TCP socket under each TLS one, by client port: a reset must go out on the TCP socket.
  const rawByPort = new Map<number, Socket>();
  const server: Server = createServer({ ...tls, maxHeaderSize: 256 * 1024 }, (req, res) => void answer(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    const port = s.remotePort ?? 0;
    rawByPort.set(port, s);
    s.on('close', () => {
      sockets.delete(s);
      rawByPort.delete(port);
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = new URL(req.url ?? '/', 'https://x').searchParams.get('case') ?? '';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    // As a model API does, the whole request is read before the answer starts.
    await new Promise<void>((resolve) => req.once('end', resolve).once('close', resolve));
    bodies.set(id, Buffer.concat(chunks));
    const script = scripts.get(id);
    if (!script) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    res.sendDate = false;
    res.writeHead(script.status, script.headers.flat());
    for (const piece of script.pieces) {
      if (res.destroyed) return;
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      // A turn of the event loop between pieces, so they travel as separate writes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (script.end === 'reset') (rawByPort.get(req.socket.remotePort ?? 0) ?? req.socket).resetAndDestroy();
    else res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    script: (id, response) => void scripts.set(id, response),
    received: (id) => bodies.get(id),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
