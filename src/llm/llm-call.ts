// The provider-neutral shape of one model call: what every dissector produces and the
// conversation assembler consumes. Plain data (JSON-serialisable), so it can be stored and diffed.

export type ApiKind = 'anthropic-messages' | 'openai-responses' | 'openai-chat-completions' | 'gemini';
export type Provider = 'anthropic' | 'openai' | 'google' | 'openrouter' | 'other';
export type ClientKind = 'claude-code' | 'codex' | 'opencode' | 'gemini-cli' | 'aider' | 'generic';
export type Transport = 'http' | 'sse' | 'websocket';

/** Why a call is not part of the conversation proper; shown apart from it. */
export type SideKind = 'title' | 'count-tokens' | 'prewarm' | 'complexity-scorer' | 'other';

export type ContentBlock =
  | { type: 'text'; text: string; citations?: unknown[] }
  | { type: 'thinking'; text: string; signature?: string }
  | { type: 'redacted-thinking'; data?: string }
  /** Reasoning the provider sent encrypted (OpenAI `reasoning` items); `summary` is what can be read. */
  | { type: 'reasoning'; summary: string; encrypted: boolean; id?: string }
  /**
   * `arguments` is the exact JSON text (joined from deltas); `input` is it parsed, when it parses.
   * `callIdFromName`: the API sent the call without an id (Gemini's functionCall often has none),
   * so `callId` is the tool's name; the client may give the call an id of its own when it re-sends it.
   */
  | {
    type: 'tool-call'; callId: string; name: string; arguments: string; input?: unknown; kind: 'function' | 'custom' | 'server'; id?: string;
    callIdFromName?: true;
  }
  | { type: 'tool-result'; callId: string; output: string; isError?: boolean; kind?: 'function' | 'custom' | 'server' }
  | { type: 'image'; mediaType?: string; source?: string }
  /** Anything the dissector does not know: kept whole, shown raw, never fatal. */
  | { type: 'unknown'; originalType: string; raw: unknown };

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface Message {
  role: Role;
  content: ContentBlock[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the input, or the grammar/format of a custom tool. */
  inputSchema?: unknown;
  kind?: 'function' | 'custom' | 'server' | 'namespace';
}

export interface Usage {
  /**
   * As the provider reports it: Anthropic's excludes cached tokens, OpenAI's and Gemini's include
   * them (the assembler subtracts cacheReadTokens for those before pricing).
   */
  inputTokens?: number;
  outputTokens?: number;
  /** Tokens read from the prompt cache (Anthropic cache_read_input_tokens, OpenAI cached_tokens). */
  cacheReadTokens?: number;
  /** Tokens written to the prompt cache (Anthropic cache_creation_input_tokens). */
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

/**
 * An Anthropic `cache_control` breakpoint: the tool, system block or message content block it is
 * on. `ttl` as sent ('1h'); absent is the default five minutes.
 */
export interface CacheMarker {
  where: 'tools' | 'system' | 'messages';
  index: number;
  /** The content block within the message (messages only). */
  block?: number;
  ttl?: string;
}

/** Identity found on the wire; the assembler groups by these. */
export interface CallIdentity {
  /** The exact session id, when the wire has one. */
  sessionId?: string;
  /** Where it came from, e.g. 'header:x-claude-code-session-id', 'body:metadata.user_id', 'body:prompt_cache_key'. */
  sessionIdSource?: string;
  /** OpenAI Responses chaining. */
  responseId?: string;
  previousResponseId?: string;
  /** Codex x-codex-turn-metadata fields, and similar per-client hints. */
  turnId?: string;
  threadId?: string;
  threadSource?: string;
  /** A hash of the system prompt (text after volatile parts are removed), for heuristics. */
  systemFingerprint?: string;
}

export interface LlmCall {
  /** Stable id: `<exchangeId>` for HTTP, `<exchangeId>:<n>` for the n-th call on a WebSocket. */
  id: string;
  exchangeId: number;
  api: ApiKind;
  provider: Provider;
  client: ClientKind;
  transport: Transport;
  url: string;
  model?: string;
  /** The model the answer names (`message.model`, `response.model`, `modelVersion`): may be more exact than the request's. */
  responseModel?: string;
  identity: CallIdentity;
  side?: SideKind;
  system?: string;
  tools: ToolDefinition[];
  /** The input as sent in this request (for incremental WebSocket frames: only the new items). */
  input: Message[];
  /**
   * The request's other fields as sent (max_tokens, temperature, reasoning, tool_choice, …), by
   * their wire names; content and ids are not among them. Large values keep only their size.
   */
  options?: Record<string, unknown>;
  /** Anthropic's explicit prompt-cache breakpoints, in prompt order. */
  cacheMarkers?: CacheMarker[];
  output: ContentBlock[];
  stopReason?: string;
  usage?: Usage;
  status?: number;
  startedAt: number;
  /** First output token (first content delta), for time to first token. */
  firstTokenAt?: number;
  endedAt?: number;
  /** Clear, human-readable problems: bad JSON, missing fields, error events, an upstream error. */
  errors: string[];
  /** Problems that did not stop the call from being read (a body nested too deeply): not a failure. */
  notes?: string[];
  /** Cut off: its socket closed or ended before the response's terminal event (WebSocket spans). */
  unfinished?: boolean;
  /** Request fields and stream events the dissector does not know, kept for display. */
  unknown?: { requestFields?: string[]; events?: string[] };
}
