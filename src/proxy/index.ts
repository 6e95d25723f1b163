// The proxy's public surface. Nothing here knows about LLMs or storage: it offers a tap.
export { startProxy } from './proxy-server';
export { discardSpareProxyThread, hasSpareProxyThread, prepareProxyThread, startProxyThread, type ProxyThread } from './proxy-thread';
export type { RunningProxy } from './proxy-server';
export type { ProxyOptions, ProxyAuth } from './options';
export { Tap, now } from './tap';
export type * from './tap';
export { DEFAULT_INTERCEPT_HOSTS, InterceptPolicy, normalizePattern } from './intercept-policy';
export { HostMap, parseMapping, parseHostPort } from './host-map';
export type { HostMapping, HostPort } from './host-map';
export { shellEnvironment } from './shell-environment';
