// Which dissector reads which exchange. A table, so that a user can point an OpenAI-compatible
// gateway at the right decoder without code: {host:'llm.corp.example', path:'/v1/chat/completions',
// api:'openai-chat-completions'}. Earlier routes win; user routes go before the defaults.
import type { ExchangeRecord } from '../capture/records';
import { urlParts } from './exchange-reader';
import type { ApiKind, Provider } from './llm-call';

export interface Route {
  /** Hostname (no port): exact, `*.example.com` for any subdomain, or `*` for any host. Case-insensitive. */
  host: string;
  /**
   * Path without the query. `*` matches within one segment and `**` across segments, so the
   * default pattern for Responses (a double star, then /v1/responses) also matches a gateway's
   * /openai/v1/responses. Anything else matches literally.
   */
  path: string;
  /** HTTP method; when omitted, POST, or GET for a WebSocket upgrade. */
  method?: string;
  api: ApiKind;
  /** Overrides the provider guessed from the host (e.g. a gateway that fronts only Anthropic). */
  provider?: Provider;
}

/**
 * The known APIs. Hosts are `*` where the path alone is distinctive: the proxy only decrypts LLM
 * hosts anyway, and Codex's and OpenCode's custom providers live on arbitrary hosts and ports.
 * Non-model endpoints (/api/event_logging, /backend-api/codex/models, …) match nothing.
 */
export const DEFAULT_ROUTES: readonly Route[] = [
  { host: '*', path: '**/v1/messages', api: 'anthropic-messages' },
  { host: '*', path: '**/v1/messages/count_tokens', api: 'anthropic-messages' },
  { host: '*', path: '**/v1/responses', api: 'openai-responses' },
  { host: 'chatgpt.com', path: '/backend-api/codex/responses', api: 'openai-responses', provider: 'openai' },
  { host: '*', path: '**/chat/completions', api: 'openai-chat-completions' },
  { host: '*', path: '**/models/*:generateContent', api: 'gemini' },
  { host: '*', path: '**/models/*:streamGenerateContent', api: 'gemini' },
  { host: '*', path: '**/models/*:countTokens', api: 'gemini' },
];

/** The user's routes first, then the defaults. */
export function withDefaultRoutes(userRoutes: readonly Route[]): Route[] {
  return [...userRoutes, ...DEFAULT_ROUTES];
}

export interface RouteMatch {
  route: Route;
  host: string;
  path: string;
  provider: Provider;
}

export function matchRoute(exchange: ExchangeRecord, routes: readonly Route[] = DEFAULT_ROUTES): RouteMatch | undefined {
  const { host, path } = urlParts(exchange.url);
  const method = exchange.method.toUpperCase();
  for (const route of routes) {
    if (!methodMatches(route, method, exchange.kind === 'websocket')) continue;
    if (!hostMatches(route.host, host) || !globToRegExp(route.path).test(path)) continue;
    return { route, host, path, provider: route.provider ?? providerOfHost(host) };
  }
  return undefined;
}

function methodMatches(route: Route, method: string, websocket: boolean): boolean {
  if (route.method !== undefined) return route.method.toUpperCase() === method;
  return method === 'POST' || (websocket && method === 'GET');
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

const compiled = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (!re) {
    const body = glob.split(/(\*\*|\*)/).map((part) => {
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }).join('');
    re = new RegExp(`^${body}/?$`);
    compiled.set(glob, re);
  }
  return re;
}

/** Known provider hosts; anything else (a local fake, a LiteLLM gateway) is 'other'. */
const PROVIDER_HOSTS: readonly [RegExp, Provider][] = [
  [/(^|\.)anthropic\.com$/, 'anthropic'],
  [/(^|\.)openai\.com$/, 'openai'],
  [/(^|\.)chatgpt\.com$/, 'openai'],
  [/\.openai\.azure\.com$/, 'openai'],
  [/(^|\.)googleapis\.com$/, 'google'],
  [/(^|\.)openrouter\.ai$/, 'openrouter'],
];

export function providerOfHost(host: string): Provider {
  return PROVIDER_HOSTS.find(([re]) => re.test(host))?.[1] ?? 'other';
}
