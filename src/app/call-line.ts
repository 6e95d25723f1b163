// One line per event for the headless proxy's live output, as mitmdump prints its flows: a
// completed LLM call, another captured exchange (--verbose), and the first time a host is
// tunnelled blind or refused. Pure formatting: no store, no sockets.
import { callCost, callUsage, sideRequestKind } from '../conversation';
import type { LlmCall, SideKind } from '../llm';

/** HH:MM:SS in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A wire session id's first 8 characters; the assembler's own ids (`anon:…`) whole. */
export function shortSessionId(id: string): string {
  return id.startsWith('anon:') ? id : id.slice(0, 8);
}

/** 950, 12.3k, 1.2M */
export function tokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}k`;
  return `${(n / 1_000_000).toFixed(2).replace(/\.?0+$/, '')}M`;
}

/** $0.0123, or `-` when the model has no known price. */
export function cost(usd: number | undefined): string {
  if (usd === undefined) return '-';
  return `$${usd > 0 && usd < 0.0001 ? usd.toFixed(6) : usd.toFixed(4)}`;
}

/** 850ms, 2.4s, 1m05s */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  return n < 1024 ? `${n}B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)}KB` : `${(n / 1024 / 1024).toFixed(1)}MB`;
}

/** The side kind the assembler gives the call (the dissector's, a Codex title thread, or a recognised instruction). */
function sideOf(call: LlmCall): SideKind | undefined {
  return call.side ?? (call.identity.threadSource === 'thread_title' ? 'title' : sideRequestKind(call));
}

/** `ERROR 529 overloaded_error: Overloaded`, or undefined for a call that succeeded. */
export function callError(call: LlmCall): string | undefined {
  const status = call.status;
  if (status !== undefined && status >= 400) {
    const http = call.errors.find((e) => e.startsWith(`HTTP ${status}`));
    const detail = http?.replace(/^HTTP \d+:?\s*/, '') ?? call.errors[0] ?? '';
    return `ERROR ${status}${detail ? ` ${detail}` : ''}`;
  }
  if (call.errors.length === 0) return undefined;
  const more = call.errors.length > 1 ? ` (+${call.errors.length - 1} more)` : '';
  return `ERROR: ${call.errors[0]}${more}`;
}

/**
 * `14:03:07 claude-code claude-sonnet-4-5 3f2a9c1d in 42 out 17 cache 1.2k $0.0012 1.3s 200`;
 * side calls are marked (`[title]`), failures end in `ERROR …` instead of the status.
 */
export function formatCallLine(call: LlmCall, sessionId: string): string {
  const u = callUsage(call);
  const side = sideOf(call);
  const parts = [
    clockTime(call.startedAt), call.client, call.model ?? '-', shortSessionId(sessionId),
    ...(side ? [`[${side}]`] : []),
    `in ${tokens(u.inputTokens)} out ${tokens(u.outputTokens)}${u.cacheReadTokens > 0 ? ` cache ${tokens(u.cacheReadTokens)}` : ''}`,
    cost(callCost(call)),
    duration(call.endedAt === undefined ? undefined : call.endedAt - call.startedAt),
    callError(call) ?? String(call.status ?? (call.transport === 'websocket' ? 'ws' : '-')),
  ];
  return parts.join(' ');
}

export interface ExchangeLineInput {
  startedAt: number;
  endedAt?: number;
  method: string;
  url: string;
  statusCode?: number;
  kind: string;
  responseBytes?: number;
  errors: readonly string[];
}

/** `14:03:07 GET https://api.anthropic.com/api/hello 404 http 1.2KB 35ms` (--verbose). */
export function formatExchangeLine(x: ExchangeLineInput): string {
  const d = x.endedAt === undefined ? undefined : x.endedAt - x.startedAt;
  const error = x.errors.length > 0 ? `  ERROR: ${x.errors.join('; ')}` : '';
  return `${clockTime(x.startedAt)} ${x.method} ${x.url} ${x.statusCode ?? '-'} ${x.kind} ${bytes(x.responseBytes)} ${duration(d)}${error}`;
}

/** `14:03:07 tunnel example.com:443 (not intercepted)` */
export function formatTunnelLine(at: number, hostPort: string): string {
  return `${clockTime(at)} tunnel ${hostPort} (not intercepted)`;
}

/** `14:03:07 refused api.mistral.ai:443: not mapped, and --only-mapped is set` */
export function formatRefusedLine(at: number, hostPort: string, reason: string): string {
  return `${clockTime(at)} refused ${hostPort}: ${reason}`;
}

/** What went wrong, short: the proxy's own reason without its prefix or the target it names again. */
export function refusalReason(text: string): string {
  const t = text.replace(/^llm-capture:\s*/, '').trim();
  if (t.includes('--only-mapped')) return 'not mapped, and --only-mapped is set';
  const cause = /(?:failed|cannot reach .*?): (.+)$/s.exec(t)?.[1];
  return cause ? `upstream unreachable: ${cause}` : t;
}
