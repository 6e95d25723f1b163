// Relays a WebSocket with `ws` on both legs (docs/decisions.md, dependencies: `ws`). Each leg negotiates
// permessage-deflate on its own, so both peers see a valid stream and nothing is rewritten
// behind their backs; messages (text or binary, reassembled from fragments), pings, pongs and
// close codes cross as they came. A non-101 upstream answer goes back to the client unchanged.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { ClientConnection, ProxyContext } from './proxy-context';
import { absoluteUrl, endToEndHeaders, headerValue } from './http-headers';
import { now, type WebSocketDirection } from './tap';
import { withPlainRequests } from './plain-request';
import type { AbortableRequestOptions } from './upstream-connector';
import { relayCloses } from './websocket-close-relay';
import { emitProxyAnswer, type ProxyAnswer } from './http-forwarder';

// The handshake headers that belong to one leg; `ws` makes its own for each.
const PER_LEG = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept', 'host', 'content-length'];
const MAX_PAYLOAD = 512 * 1024 * 1024;
// Text that is not UTF-8 is the far end's to refuse (with 1007), after the messages before it: a
// relay that refused it itself would drop the answers still on their way (decision 58).
const SKIP_UTF8_VALIDATION = true;
// Pause a sender once this much is waiting to be written to the other side.
const HIGH_WATER = 8 * 1024 * 1024;

const responseHeaders = new WeakMap<http.IncomingMessage, string[]>();
const clientServer = new WebSocketServer({
  noServer: true,
  perMessageDeflate: true,
  maxPayload: MAX_PAYLOAD,
  skipUTF8Validation: SKIP_UTF8_VALIDATION,
  autoPong: false,
  clientTracking: false,
  // Agree to the subprotocol the upstream chose, if any.
  handleProtocols: (_protocols, req) => (req as http.IncomingMessage & { llmcProtocol?: string }).llmcProtocol || false,
});
clientServer.on('headers', (headers, req) => {
  const extra = responseHeaders.get(req) ?? [];
  for (let i = 0; i < extra.length; i += 2) headers.push(`${extra[i]}: ${extra[i + 1]}`);
});

export function relayWebSocket(ctx: ProxyContext, conn: ClientConnection, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const exchangeId = ctx.newExchangeId();
  const path = req.url ?? '/';
  const url = absoluteUrl(conn.scheme === 'https' ? 'wss' : 'ws', conn.host, conn.port, path);
  const tapOn = conn.captured;
  const emit: ProxyContext['emit'] = (e) => tapOn && ctx.emit(e);
  emit({ type: 'request-head', exchangeId, connectionId: conn.id, time: now(), method: req.method ?? 'GET', url,
    httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, upgrade: true });
  let finished = false;
  const end = (outcome: 'complete' | 'client-aborted' | 'upstream-error' | 'refused', error?: string) => {
    if (finished) return;
    finished = true;
    emit({ type: 'exchange-end', exchangeId, time: now(), outcome, ...(error ? { error } : {}) });
  };

  // The proxy's own answer is the exchange's response: the tap sees what the client got.
  const answer = (message: string) => {
    const sent = writeProxyError(socket, 502, message);
    if (sent && tapOn) emitProxyAnswer(ctx, exchangeId, sent);
  };

  const refusal = ctx.refusal(conn.host, conn.port);
  if (refusal) {
    answer(refusal);
    end('refused', refusal);
    return;
  }

  const offered = headerValue(req.rawHeaders, 'sec-websocket-extensions') ?? '';
  const protocols = (headerValue(req.rawHeaders, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  // Aborted when the client leaves during the handshake: a connection still being made is given up.
  const clientGone = new AbortController();
  // ws calls https.request itself, which a host may have patched (see plain-request.ts).
  const upstream = withPlainRequests(() => new WebSocket(url, protocols, {
    headers: flatToObject(endToEndHeaders(req.rawHeaders, PER_LEG)),
    agent: conn.scheme === 'https' ? ctx.upstream.httpsAgent : ctx.upstream.httpAgent,
    perMessageDeflate: /permessage-deflate/i.test(offered),
    maxPayload: MAX_PAYLOAD,
    skipUTF8Validation: SKIP_UTF8_VALIDATION,
    autoPong: false,
    followRedirects: false,
    handshakeTimeout: 30_000,
    llmcAbort: clientGone.signal,
  } as WebSocket.ClientOptions & AbortableRequestOptions));
  let client: WebSocket | undefined;

  upstream.once('upgrade', (res) => {
    emit({ type: 'response-head', exchangeId, time: now(), statusCode: res.statusCode ?? 101, statusMessage: res.statusMessage ?? '', rawHeaders: res.rawHeaders });
    responseHeaders.set(req, endToEndHeaders(res.rawHeaders, PER_LEG));
  });
  upstream.once('unexpected-response', (_clientReq, res) => {
    emit({ type: 'response-head', exchangeId, time: now(), statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', rawHeaders: res.rawHeaders });
    // Pass the answer back as it came (Codex falls back to HTTP on a 426). The body is re-framed
    // as close-delimited because `ws` hands it over already de-chunked.
    const headers = endToEndHeaders(res.rawHeaders, ['transfer-encoding', 'content-length']);
    socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${pairs(headers)}Connection: close\r\n\r\n`);
    res.on('data', (chunk: Buffer) => {
      socket.write(chunk);
      emit({ type: 'response-body', exchangeId, time: now(), chunk });
    });
    res.on('end', () => { socket.end(); end('complete'); });
    res.on('error', () => { socket.destroy(); end('upstream-error', 'upstream failed while answering the upgrade'); });
  });
  upstream.once('open', () => {
    (req as http.IncomingMessage & { llmcProtocol?: string }).llmcProtocol = upstream.protocol;
    if (socket.destroyed) {
      upstream.terminate();
      end('client-aborted', 'client went away during the handshake');
      return;
    }
    clientServer.handleUpgrade(req, socket, head, (ws) => {
      client = ws;
      pipeMessages(ws, upstream, 'client-to-server');
      pipeMessages(upstream, ws, 'server-to-client');
      relayCloses(ws, upstream, {
        closeFrame: (direction, code, reason) => emit({ type: 'ws-close', exchangeId, time: now(), direction, code, reason }),
        ended: (abruptSide) => end(abruptSide === undefined ? 'complete' : abruptSide === 'client' ? 'client-aborted' : 'upstream-error',
          abruptSide === undefined ? undefined : `${abruptSide} closed without a close frame (1006)`),
      });
      ws.on('error', (e) => { ctx.log('debug', `websocket client ${url}: ${e.message}`); upstream.terminate(); });
    });
  });
  upstream.on('error', (e) => {
    const reason = `llm-capture: websocket upstream ${ctx.upstream.describeTarget(conn.host, conn.port)} failed: ${e.message}`;
    if (!client) {
      if (!socket.destroyed && !upstreamAnswered(upstream)) answer(reason);
      end('upstream-error', reason);
    } else {
      client.terminate();
      end('upstream-error', reason);
    }
  });
  socket.once('close', () => {
    if (client) return;
    clientGone.abort();
    upstream.terminate();
  });

  function pipeMessages(from: WebSocket, to: WebSocket, direction: WebSocketDirection): void {
    let pending = 0;
    from.on('message', (data: Buffer, isBinary: boolean) => {
      pending += data.length;
      if (pending > HIGH_WATER) from.pause();
      to.send(data, { binary: isBinary }, () => {
        pending -= data.length;
        if (pending <= HIGH_WATER && from.isPaused) from.resume();
      });
      emit({ type: 'ws-message', exchangeId, time: now(), direction, opcode: isBinary ? 'binary' : 'text', data });
    });
    from.on('ping', (data: Buffer) => {
      if (to.readyState === WebSocket.OPEN) to.ping(data);
      emit({ type: 'ws-message', exchangeId, time: now(), direction, opcode: 'ping', data });
    });
    from.on('pong', (data: Buffer) => {
      if (to.readyState === WebSocket.OPEN) to.pong(data);
      emit({ type: 'ws-message', exchangeId, time: now(), direction, opcode: 'pong', data });
    });
  }
}

function upstreamAnswered(ws: WebSocket): boolean {
  return ws.readyState !== WebSocket.CONNECTING;
}

function flatToObject(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const prev = out[raw[i]];
    out[raw[i]] = prev === undefined ? raw[i + 1] : [...(Array.isArray(prev) ? prev : [prev]), raw[i + 1]];
  }
  return out;
}

function pairs(raw: readonly string[]): string {
  let s = '';
  for (let i = 0; i < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return s;
}

/** A plain-text error from the proxy itself, marked as such; returns what was sent (undefined: the socket was gone). */
function writeProxyError(socket: Duplex, status: number, message: string): ProxyAnswer | undefined {
  if (socket.destroyed) return undefined;
  const body = Buffer.from(`${message}\n`);
  const statusMessage = http.STATUS_CODES[status] ?? '';
  const rawHeaders = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), 'X-LLM-Capture-Error', '1', 'Connection', 'close'];
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${statusMessage}\r\n${pairs(rawHeaders)}\r\n`), body]));
  return { statusCode: status, statusMessage, rawHeaders, body };
}
