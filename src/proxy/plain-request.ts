// Outgoing requests that host patches cannot redirect. VS Code's extension host patches
// http.request and https.request in place (@vscode/proxy-agent; with the default
// `http.proxySupport: "override"`) and swaps the caller's agent for its own, which resolves the
// host by DNS and dials it: our host mappings, upstream CA files, upstream proxy and keep-alive
// pool would all be bypassed (https://github.com/microsoft/vscode-proxy-agent, createHttpPatch).
// A ClientRequest constructed directly goes through no patch.
import http from 'node:http';
import https from 'node:https';

export type Scheme = 'http' | 'https';

/** What http(s).request does, minus any patch: the agent given is the agent used. */
export function plainRequest(scheme: Scheme, options: http.RequestOptions): http.ClientRequest {
  return new http.ClientRequest({ ...options, protocol: `${scheme}:` });
}

type RequestFn = typeof http.request;

/**
 * Runs `fn` with http.request and https.request replaced by plainRequest, for libraries that call
 * them (ws opens its handshake request synchronously inside its constructor). Restored before
 * returning, so nothing else ever sees the swap: the event loop cannot run in between.
 */
export function withPlainRequests<T>(fn: () => T): T {
  const saved: [RequestFn, RequestFn] = [http.request, https.request];
  const plain = (scheme: Scheme): RequestFn => ((options: http.RequestOptions, cb?: (res: http.IncomingMessage) => void) => {
    const req = plainRequest(scheme, options);
    if (cb) req.once('response', cb);
    return req;
  }) as RequestFn;
  const modules = [http, https] as Array<{ request: RequestFn }>;
  modules[0].request = plain('http');
  modules[1].request = plain('https');
  try {
    return fn();
  } finally {
    modules[0].request = saved[0];
    modules[1].request = saved[1];
  }
}
