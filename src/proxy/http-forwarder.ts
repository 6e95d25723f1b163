// Forwards one HTTP/1.1 exchange upstream and streams the answer back, chunk by chunk, with
// back-pressure and no buffering (docs/decisions.md, decision 11). The tap sees the same chunks,
// by reference, after they have been handed to the other side.
import http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { plainRequest } from './plain-request';
import type { ClientConnection, ProxyContext } from './proxy-context';
import { absoluteUrl, endToEndHeaders, MAX_HEADER_BYTES, parseAbsoluteForm } from './http-headers';
import { now } from './tap';
import { formatSeconds, UpstreamTimeoutError, type AbortableRequestOptions } from './upstream-connector';
import { MAX_REPLAYS, metClosedPooledConnection, ReplayableUpload } from './upload-replay';
import { closedByPeer } from './early-answer-guard';

export function forwardHttp(ctx: ProxyContext, conn: ClientConnection, req: http.IncomingMessage, res: http.ServerResponse): void {
  const exchangeId = ctx.newExchangeId();
  const tapOn = conn.captured;
  // Intercepted requests arrive in origin form; a few clients send absolute form anyway.
  const path = req.url?.startsWith('/') ? req.url : (parseAbsoluteForm(req.url ?? '')?.path ?? '/');
  res.sendDate = false; // Forward the upstream's Date, never one of our own.

  if (tapOn) {
    ctx.emit({
      type: 'request-head', exchangeId, connectionId: conn.id, time: now(), method: req.method ?? 'GET',
      url: absoluteUrl(conn.scheme, conn.host, conn.port, path), httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, upgrade: false,
    });
  }
  let ended = false;
  const end = (outcome: 'complete' | 'client-aborted' | 'upstream-error' | 'refused', error?: string) => {
    if (ended) return;
    ended = true;
    if (tapOn) ctx.emit({ type: 'exchange-end', exchangeId, time: now(), outcome, ...(error ? { error } : {}) });
    if (error) ctx.log(outcome === 'client-aborted' ? 'debug' : 'warn', `${req.method} ${conn.host}${path}: ${error}`);
  };

  // The proxy's own answer is the exchange's response: the tap sees what the client got.
  const answer = (status: number, message: string) => {
    const sent = answerPlainError(res, status, message);
    if (tapOn && sent) emitProxyAnswer(ctx, exchangeId, sent);
  };

  const refusal = ctx.refusal(conn.host, conn.port);
  if (refusal) {
    req.resume();
    answer(502, refusal);
    end('refused', refusal);
    return;
  }

  // The client already got "100 Continue" from Node's server, so the upstream need not send one.
  const headers = endToEndHeaders(req.rawHeaders, ['expect']);
  // Aborted when the client leaves: an upstream connection still being made is given up at once.
  const clientGone = new AbortController();
  const options: http.RequestOptions & AbortableRequestOptions = {
    host: conn.host,
    port: conn.port,
    method: req.method,
    path,
    headers: headers as unknown as http.OutgoingHttpHeaders, // Node accepts a flat [name, value, …] array.
    agent: conn.scheme === 'https' ? ctx.upstream.httpsAgent : ctx.upstream.httpAgent,
    setHost: false,
    // The upstream's header block may be as large as the client's may (decision 40).
    maxHeaderSize: MAX_HEADER_BYTES,
    llmcAbort: clientGone.signal,
  };
  let responded: http.IncomingMessage | undefined;
  const upload = new ReplayableUpload();
  let replays = 0;
  let upstreamReq = attempt();

  /** Sends the request upstream: once, or again when a pooled connection was closed under it. */
  function attempt(): http.ClientRequest {
    const request = plainRequest(conn.scheme, options);
    request.maxHeadersCount = 0;
    // Silence while waiting for the headers or in the middle of the body (decision 55).
    const { idleMs } = ctx.upstream.timeouts;
    request.setTimeout(idleMs, () => {
      request.destroy(new UpstreamTimeoutError(`upstream ${ctx.upstream.describeTarget(conn.host, conn.port)} sent nothing for ${formatSeconds(idleMs)}`));
    });
    // A replaced attempt may still report (a held socket error, decision 54): only the current one counts.
    request.on('response', (upstreamRes) => {
      if (request === upstreamReq) onResponse(upstreamRes);
    });
    request.on('error', (e: Error & { code?: string }) => {
      if (request !== upstreamReq) return;
      if (!responded && upload.replayable && replays < MAX_REPLAYS && !ended && metClosedPooledConnection(request, e)) {
        replays++;
        ctx.log('debug', `${req.method} ${conn.host}${path}: a pooled upstream connection was closed as it was reused (${e.message}); sending again`);
        upstreamReq = attempt();
        return;
      }
      onError(e);
    });
    upload.replayInto(request);
    return request;
  }

  function onResponse(upstreamRes: http.IncomingMessage): void {
    responded = upstreamRes;
    upload.forget();
    if (tapOn) {
      ctx.emit({ type: 'response-head', exchangeId, time: now(), statusCode: upstreamRes.statusCode ?? 0,
        statusMessage: upstreamRes.statusMessage ?? '', rawHeaders: upstreamRes.rawHeaders });
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.rawHeaders));
    // The head goes out with the first chunk when one is already here; otherwise on its own, so a
    // client waiting for an SSE stream's first event still sees the status at once.
    setImmediate(() => {
      if (!res.headersSent && !res.destroyed) res.flushHeaders();
    });
    upstreamRes.on('data', (chunk: Buffer) => {
      res.write(chunk);
      pauseWhileBacklogged(upstreamRes, res);
      if (tapOn) ctx.emit({ type: 'response-body', exchangeId, time: now(), chunk });
    });
    upstreamRes.on('end', () => {
      res.end();
      end('complete');
    });
    // A reset upstream must reach the client as a reset, never as a clean (and so complete-looking) end.
    upstreamRes.on('aborted', () => abortClient('upstream closed the connection mid-response'));
    upstreamRes.on('error', (e) => abortClient(`upstream response failed: ${e.message}`));
    upstreamRes.on('close', () => {
      if (!upstreamRes.complete) abortClient('upstream closed the connection mid-response');
    });
  }

  function onError(e: Error & { code?: string }): void {
    if (ended) return;
    // An upstream that answered before reading the whole upload (413, 401, …) and closed makes the
    // rest of the upload fail; its answer is what the client gets, as it would directly.
    if (responded?.complete) return;
    if (!res.headersSent && closedByPeer(e)) {
      // Closed or reset without a byte of answer: the client sees its connection closed with no
      // answer, as it would directly, and the capture says why.
      req.resume();
      end('upstream-error', `llm-capture: upstream ${ctx.upstream.describeTarget(conn.host, conn.port)} closed the connection without answering (${e.message})`);
      req.socket.end();
    } else if (!res.headersSent) {
      req.resume();
      const timedOut = e instanceof UpstreamTimeoutError;
      const reason = timedOut ? `llm-capture: ${e.message}`
        : `llm-capture: upstream ${ctx.upstream.describeTarget(conn.host, conn.port)} failed: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`;
      answer(timedOut ? 504 : 502, reason);
      end('upstream-error', reason);
    } else {
      abortClient(`upstream failed mid-response: ${e.message}`);
    }
  }

  function abortClient(reason: string): void {
    if (ended) return;
    end('upstream-error', reason);
    res.destroy();
    req.socket.destroy();
  }

  // A client that goes away aborts the upstream request.
  res.on('close', () => {
    if (!res.writableFinished && !ended) {
      end('client-aborted', 'client closed the connection before the response was complete');
      clientGone.abort();
      upstreamReq.destroy();
    }
  });

  req.on('data', (chunk: Buffer) => {
    upload.add(chunk);
    upstreamReq.write(chunk);
    pauseWhileBacklogged(req, upstreamReq);
    if (tapOn) ctx.emit({ type: 'request-body', exchangeId, time: now(), chunk });
  });
  req.on('end', () => {
    upload.ended = true;
    upstreamReq.end();
    if (tapOn) ctx.emit({ type: 'request-end', exchangeId, time: now() });
  });
}

/**
 * Back-pressure with an allowance of BACKLOG bytes rather than the socket's 16 KiB high-water
 * mark, which would pause and resume the source for every TLS record (one epoll_ctl each) and
 * move one record per turn of the event loop. A slow reader still stops the source.
 */
const BACKLOG = 1024 * 1024;

function pauseWhileBacklogged(source: Readable, sink: Writable): void {
  if (source.isPaused() || sink.writableLength <= BACKLOG) return;
  source.pause();
  sink.once('drain', () => source.resume());
}

/** An answer the proxy made itself (the `x-llm-capture-error: 1` header marks it on the wire). */
export interface ProxyAnswer {
  statusCode: number;
  statusMessage: string;
  rawHeaders: string[];
  body: Buffer;
}

export function sendPlainError(res: http.ServerResponse, status: number, message: string): void {
  answerPlainError(res, status, message);
}

/** Answers with a plain-text error; returns what was sent, or undefined when the head had gone out already. */
function answerPlainError(res: http.ServerResponse, status: number, message: string): ProxyAnswer | undefined {
  if (res.headersSent) {
    res.destroy();
    return undefined;
  }
  const body = Buffer.from(`${message}\n`);
  const rawHeaders = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length), 'x-llm-capture-error', '1'];
  const statusMessage = http.STATUS_CODES[status] ?? '';
  res.writeHead(status, statusMessage, rawHeaders);
  res.end(body);
  return { statusCode: status, statusMessage, rawHeaders, body };
}

/** Reports the proxy's own answer to the tap as the exchange's response (head, then body). */
export function emitProxyAnswer(ctx: ProxyContext, exchangeId: number, answer: ProxyAnswer): void {
  ctx.emit({ type: 'response-head', exchangeId, time: now(), statusCode: answer.statusCode, statusMessage: answer.statusMessage, rawHeaders: answer.rawHeaders });
  if (answer.body.length > 0) ctx.emit({ type: 'response-body', exchangeId, time: now(), chunk: answer.body });
}
