// Which coding agent sent a call. Headers are the strongest evidence (user agent, originator,
// client-specific headers), so every client's header rule is tried before any body rule; the body
// rules (system prompt wording, id formats) cover captures without headers and gateways that
// rewrite them (Aider's requests leave through LiteLLM with a litellm user agent).
import type { HeaderMap } from './exchange-reader';
import { asRecord, asString, isRecord, type JsonRecord } from './json-value';
import type { ClientKind, LlmCall } from './llm-call';

interface ClientRule {
  client: ClientKind;
  headers: (h: HeaderMap) => boolean;
  body: (call: LlmCall, request: JsonRecord) => boolean;
}

const has = (value: string | undefined, re: RegExp) => value !== undefined && re.test(value);

const RULES: readonly ClientRule[] = [
  {
    client: 'claude-code',
    headers: (h) => h.get('x-claude-code-session-id') !== undefined
      || has(h.get('user-agent'), /^claude-(cli|code)\//i)
      || has(h.get('anthropic-beta'), /\bclaude-code-\d/),
    body: (call, request) => has(call.system, /You are Claude Code|Claude Agent SDK/)
      || has(asString(asRecord(request.metadata)?.user_id), /_session_|"session_id"/),
  },
  {
    client: 'codex',
    // originator is codex_exec, codex-tui, codex_cli_rs, … depending on the front end.
    headers: (h) => has(h.get('originator'), /^codex/i) || h.get('x-codex-turn-metadata') !== undefined
      || has(h.get('user-agent'), /^codex/i),
    body: (call, request) => has(call.system, /^You are Codex\b/)
      || Object.keys(asRecord(request.client_metadata) ?? {}).some((k) => k.startsWith('x-codex-')),
  },
  {
    client: 'opencode',
    headers: (h) => h.get('originator') === 'opencode' || has(h.get('user-agent'), /\bopencode\//i)
      || has(h.get('x-title'), /^opencode$/i) || has(h.get('http-referer'), /opencode\.ai/)
      || has(h.get('x-session-id'), /^ses_/),
    // Its title generator's prompt is its own wording too (greyproxy's captures have no headers).
    body: (call, request) => has(call.system, /^You are (OpenCode|opencode)\b|^You are a title generator\. You output ONLY a thread title/)
      || has(asString(request.prompt_cache_key), /^ses_/),
  },
  {
    client: 'gemini-cli',
    // `GeminiCLI/<version>/<model> (…)` in older versions; 0.61 says `GeminiCLI-<front end>/…` (tui,
    // cli-command, acp, acp-zed…). Inside a VS Code terminal it poses as Cloud Code
    // (`CloudCodeVSCode/<version> (…; proxy_client=geminicli)`).
    headers: (h) => has(h.get('user-agent'), /^GeminiCLI(-[\w.-]+)?\/|\bproxy_client=geminicli\b/i),
    body: (call) => has(call.system, /You are Gemini CLI\b/) || firstUserText(call).includes('This is the Gemini CLI'),
  },
  {
    client: 'aider',
    headers: (h) => has(h.get('x-title'), /^aider$/i) || has(h.get('http-referer'), /aider\.chat/) || has(h.get('user-agent'), /^aider/i),
    body: (call) => has(call.system, /^Act as an expert software developer\./),
  },
];

export function detectClient(headers: HeaderMap, call: LlmCall, request: JsonRecord | undefined): ClientKind {
  const byHeader = RULES.find((rule) => rule.headers(headers));
  if (byHeader) return byHeader.client;
  const body = isRecord(request) ? request : {};
  return RULES.find((rule) => rule.body(call, body))?.client ?? 'generic';
}

function firstUserText(call: LlmCall): string {
  const first = call.input.find((m) => m.role === 'user');
  const block = first?.content.find((b) => b.type === 'text');
  return block?.type === 'text' ? block.text : '';
}
