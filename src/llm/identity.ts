// The conversation identity a call carries on the wire (src/conversation/README.md, "Model" and
// "Identity without a wire id"): exact session ids first, in a fixed order of trust, and Codex's turn metadata.
// The system-prompt fingerprint is the heuristic for clients that send no id (Aider, Gemini CLI).
import { createHash } from 'node:crypto';
import type { HeaderMap } from './exchange-reader';
import { asId, asRecord, asString, isRecord, parseJson, type JsonRecord } from './json-value';
import type { CallIdentity, LlmCall } from './llm-call';

/**
 * Claude Code's `metadata.user_id` in its three forms: the legacy string
 * `user_<hex>_account_<uuid>_session_<uuid>`, a JSON-encoded string (2.1.78 and later), or an object.
 */
export function claudeSessionId(userId: unknown): string | undefined {
  if (isRecord(userId)) return asId(userId.session_id);
  if (typeof userId !== 'string') return undefined;
  if (userId.trim().startsWith('{')) {
    const parsed = parseJson(userId);
    return parsed.ok && isRecord(parsed.value) ? asId(parsed.value.session_id) : undefined;
  }
  return /_session_([0-9a-zA-Z-]+)$/.exec(userId)?.[1];
}

function parseObject(text: string | undefined): JsonRecord | undefined {
  if (text === undefined) return undefined;
  const parsed = parseJson(text);
  return parsed.ok && isRecord(parsed.value) ? parsed.value : undefined;
}

/**
 * Codex's `x-codex-turn-metadata` (session_id, thread_id, turn_id, request_kind, thread_source),
 * from the header and from the body's `client_metadata`. On a WebSocket the header was sent once,
 * with the handshake, and describes the prewarm; each `response.create` frame repeats the current
 * metadata in `client_metadata`, so the header's per-turn fields are dropped there.
 */
function turnMetadataParts(headers: HeaderMap, request: JsonRecord | undefined, websocket: boolean): { header: JsonRecord; body: JsonRecord } {
  const header = { ...parseObject(headers.get('x-codex-turn-metadata')) };
  if (websocket) {
    delete header.request_kind;
    delete header.turn_id;
  }
  const body = parseObject(asString(asRecord(request?.client_metadata)?.['x-codex-turn-metadata'])) ?? {};
  return { header, body };
}

/** The turn metadata in force for a call: the body's, over the header's. */
export function turnMetadata(headers: HeaderMap, request: JsonRecord | undefined, websocket: boolean): JsonRecord {
  const { header, body } = turnMetadataParts(headers, request, websocket);
  return { ...header, ...body };
}

type Source = [source: string, read: () => unknown];

export function readIdentity(call: LlmCall, headers: HeaderMap, request: JsonRecord | undefined): CallIdentity {
  const body = request ?? {};
  const parts = turnMetadataParts(headers, request, call.transport === 'websocket');
  const meta = { ...parts.header, ...parts.body };
  const clientMetadata = asRecord(body.client_metadata) ?? {};
  // In order of trust: ids the client states as its session, then ids that equal it by convention.
  const sources: Source[] = [
    ['header:x-claude-code-session-id', () => headers.get('x-claude-code-session-id')],
    ['body:metadata.user_id', () => claudeSessionId(asRecord(body.metadata)?.user_id)],
    ['header:session-id', () => headers.get('session-id')],
    ['body:prompt_cache_key', () => body.prompt_cache_key],
    ['body:client_metadata.x-codex-turn-metadata', () => parts.body.session_id],
    ['header:x-codex-turn-metadata', () => parts.header.session_id],
    ['header:x-session-id', () => headers.get('x-session-id')],
    ['body:client_metadata.session_id', () => clientMetadata.session_id],
  ];
  const identity: CallIdentity = { ...call.identity };
  for (const [source, read] of sources) {
    const id = asId(read());
    if (id !== undefined) {
      identity.sessionId = id;
      identity.sessionIdSource = source;
      break;
    }
  }
  const threadId = asId(meta.thread_id) ?? asId(headers.get('thread-id')) ?? asId(clientMetadata.thread_id);
  if (threadId !== undefined) identity.threadId = threadId;
  const turnId = asId(meta.turn_id) ?? asId(clientMetadata.turn_id);
  if (turnId !== undefined) identity.turnId = turnId;
  const threadSource = asId(meta.thread_source);
  if (threadSource !== undefined) identity.threadSource = threadSource;
  if (call.system !== undefined) {
    const fingerprint = systemFingerprint(call.system);
    if (fingerprint !== undefined) identity.systemFingerprint = fingerprint;
  }
  return identity;
}

/**
 * Parts of a system prompt that change between calls of one conversation and so must not change
 * its fingerprint: Claude Code's billing line (its `cch=` hash differs on every request) and dates.
 */
const VOLATILE: readonly RegExp[] = [
  /^x-anthropic-billing-header:.*$/gm,
  /^.*\b(today's date|current date|currentdate)\b.*$/gim,
  /<current_date>[^<]*<\/current_date>/g,
  /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?\b/g,
];

/** A short hash of the system prompt with its volatile parts removed; undefined when nothing is left. */
export function systemFingerprint(system: string): string | undefined {
  let text = system;
  for (const re of VOLATILE) text = text.replace(re, '');
  text = text.replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
