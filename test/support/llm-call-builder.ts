// Test-data builders for LlmCalls: content blocks, messages, and conversations that behave like
// the real clients (Claude Code re-sends its whole history; Codex over WebSocket chains frames
// with previous_response_id and sends only new items).
import type {
  ApiKind, CallIdentity, ClientKind, ContentBlock, LlmCall, Message, Provider, SideKind, Transport, Usage,
} from '../../src/llm/llm-call';

export const text = (t: string): ContentBlock => ({ type: 'text', text: t });
export const thinking = (t: string): ContentBlock => ({ type: 'thinking', text: t, signature: `sig-${t.length}` });
export const toolUse = (callId: string, name: string, input: Record<string, unknown>): ContentBlock => ({
  type: 'tool-call', callId, name, arguments: JSON.stringify(input), input, kind: 'function',
});
export const toolResult = (callId: string, output: string, isError = false): ContentBlock => ({
  type: 'tool-result', callId, output, ...(isError ? { isError: true } : {}),
});
export const reasoning = (id: string, summary = ''): ContentBlock => ({ type: 'reasoning', id, summary, encrypted: true });

const blocks = (content: Array<ContentBlock | string>): ContentBlock[] => content.map((c) => (typeof c === 'string' ? text(c) : c));
export const user = (...content: Array<ContentBlock | string>): Message => ({ role: 'user', content: blocks(content) });
export const assistant = (...content: Array<ContentBlock | string>): Message => ({ role: 'assistant', content: blocks(content) });
export const developer = (...content: Array<ContentBlock | string>): Message => ({ role: 'developer', content: blocks(content) });
export const toolMessage = (...content: ContentBlock[]): Message => ({ role: 'tool', content });

export const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0): Usage => ({
  inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens,
});

/** A shared, monotonic clock so that calls built in sequence get increasing times. */
export class Clock {
  constructor(public now = Date.UTC(2026, 10, 24, 12, 0, 0)) {}
  next(stepMs = 1000): number {
    this.now += stepMs;
    return this.now;
  }
}

let exchangeSeq = 1;

export interface CallOptions {
  id?: string;
  api?: ApiKind;
  provider?: Provider;
  client?: ClientKind;
  transport?: Transport;
  model?: string;
  system?: string;
  identity?: CallIdentity;
  side?: SideKind;
  input?: Message[];
  output?: ContentBlock[];
  usage?: Usage;
  status?: number;
  errors?: string[];
  startedAt?: number;
  durationMs?: number;
  tools?: string[];
}

/** One LlmCall with readable defaults (a Claude Code call). */
export function llmCall(o: CallOptions = {}): LlmCall {
  const exchangeId = exchangeSeq++;
  const startedAt = o.startedAt ?? Date.UTC(2026, 10, 24, 12, 0, 0) + exchangeId * 1000;
  return {
    id: o.id ?? String(exchangeId), exchangeId, api: o.api ?? 'anthropic-messages', provider: o.provider ?? 'anthropic',
    client: o.client ?? 'claude-code', transport: o.transport ?? 'sse', url: 'https://api.anthropic.com/v1/messages?beta=true',
    ...(o.model !== undefined ? { model: o.model } : { model: 'claude-sonnet-4-5-20250929' }),
    identity: o.identity ?? {}, ...(o.side ? { side: o.side } : {}), ...(o.system !== undefined ? { system: o.system } : {}),
    tools: (o.tools ?? []).map((name) => ({ name })), input: o.input ?? [], output: o.output ?? [],
    ...(o.usage ? { usage: o.usage } : {}), ...(o.status !== undefined ? { status: o.status } : { status: 200 }),
    startedAt, endedAt: startedAt + (o.durationMs ?? 500), errors: o.errors ?? [],
  };
}

export interface ConversationOptions {
  sessionId?: string;
  system: string;
  /** Defaults to a hash-like label of the system prompt. */
  fingerprint?: string;
  model?: string;
  clock: Clock;
  client?: ClientKind;
  api?: ApiKind;
  provider?: Provider;
  tools?: string[];
}

/**
 * A client that re-sends its whole history on every request (Claude Code, OpenCode, Gemini CLI,
 * a resumed Codex). `request` returns the call and, unless told otherwise, appends its output
 * to the history as the next assistant message.
 */
export class FullHistoryConversation {
  readonly history: Message[] = [];
  constructor(readonly options: ConversationOptions) {}

  say(...content: Array<ContentBlock | string>): this {
    this.history.push(user(...content));
    return this;
  }

  /** A user message of tool results (and any text the client adds next to them). */
  results(...content: Array<ContentBlock | string>): this {
    this.history.push(user(...content));
    return this;
  }

  request(output: ContentBlock[], o: Partial<CallOptions> & { commit?: boolean } = {}): LlmCall {
    const { sessionId, system, model, clock, client, api, provider, tools } = this.options;
    const fingerprint = this.options.fingerprint ?? `fp:${system.slice(0, 24)}`;
    const call = llmCall({
      model, system, client, api, provider, tools, startedAt: clock.next(), output, usage: usage(100, 50),
      identity: { ...(sessionId ? { sessionId, sessionIdSource: 'header:x-claude-code-session-id' } : {}), systemFingerprint: fingerprint },
      input: o.input ?? structuredClone(this.history), ...o,
    });
    if (o.commit !== false && output.length > 0) this.history.push(assistant(...output));
    return call;
  }
}

/** Codex over one WebSocket: a prewarm, then frames chained by previous_response_id. */
export class ChainedSocket {
  private last: string | undefined;
  private seq = 0;
  constructor(readonly options: { sessionId: string; model?: string; clock: Clock; tag: string }) {}

  private base(o: Partial<CallOptions>): CallOptions {
    return { client: 'codex', api: 'openai-responses', provider: 'openai', transport: 'websocket', model: this.options.model ?? 'gpt-5.1-codex', startedAt: this.options.clock.next(), ...o };
  }

  private identity(responseId: string): CallIdentity {
    return {
      sessionId: this.options.sessionId, sessionIdSource: 'header:session-id', responseId,
      ...(this.last !== undefined ? { previousResponseId: this.last } : {}),
    };
  }

  prewarm(input: Message[]): LlmCall {
    const responseId = `resp_${this.options.tag}_${this.seq++}`;
    const call = llmCall(this.base({ side: 'prewarm', input, output: [], usage: usage(40, 0), identity: this.identity(responseId) }));
    this.last = responseId;
    return call;
  }

  /** A frame carrying only the new input items; the previous response's output is implied. */
  send(input: Message[], output: ContentBlock[], o: Partial<CallOptions> = {}): LlmCall {
    const responseId = `resp_${this.options.tag}_${this.seq++}`;
    const call = llmCall(this.base({ input, output, usage: usage(1000, 100, 800), identity: this.identity(responseId), ...o }));
    this.last = responseId;
    return call;
  }
}

/** Gemini CLI: no session id; a flash-lite complexity scorer before each main call, the whole history resent. */
export function geminiCliConversation(clock: Clock, prompts: string[]): LlmCall[] {
  const c = new FullHistoryConversation({ system: 'You are Gemini CLI.', clock, client: 'gemini-cli', api: 'gemini', provider: 'google', model: 'gemini-2.5-pro' });
  c.say('<session_context>\nThis is the Gemini CLI.\n</session_context>');
  const calls: LlmCall[] = [];
  for (const prompt of prompts) {
    c.say(prompt);
    calls.push(c.request([text('{"complexity":"simple"}')], { side: 'complexity-scorer', model: 'gemini-2.5-flash-lite', commit: false, identity: { systemFingerprint: 'fp:scorer' } }));
    calls.push(c.request([text(`Answer to ${prompt}`)]));
  }
  return calls;
}
