// Calls that a client makes beside the conversation: title generators, token counting, prewarm
// frames, Gemini CLI's complexity scorer, Claude Code's next-prompt suggestions. They are kept and
// shown apart (src/conversation/README.md, "Model": side calls). Each rule names the wire evidence it relies on; the first match wins.
import { urlParts, type HeaderMap } from './exchange-reader';
import { asRecord, type JsonRecord } from './json-value';
import { turnMetadata } from './identity';
import type { LlmCall, Message, SideKind } from './llm-call';

interface SideContext {
  call: LlmCall;
  request: JsonRecord;
  meta: JsonRecord;
  path: string;
}

interface SideRule {
  side: SideKind;
  test: (ctx: SideContext) => boolean;
}

/** The instruction each client's title generator opens with. */
const TITLE_PROMPTS: readonly RegExp[] = [
  /Generate a concise, sentence-case title/i, // Claude Code (Haiku)
  /Generate a concise, single-line task title/i, // Codex title threads
  /You are a title generator/i, // OpenCode
];

const RULES: readonly SideRule[] = [
  { side: 'count-tokens', test: ({ path }) => path.endsWith('/count_tokens') || path.endsWith(':countTokens') },
  // `generate: false` asks the server to warm up without answering (Codex's first WebSocket frame).
  { side: 'prewarm', test: ({ request, meta }) => request.generate === false || meta.request_kind === 'prewarm' },
  {
    side: 'title',
    test: ({ call, request, meta }) => meta.thread_source === 'thread_title'
      || instructionTexts(call).some((text) => TITLE_PROMPTS.some((re) => re.test(text)))
      || (call.tools.length === 0 && schemaHas(asRecord(asRecord(request.output_config)?.format)?.schema, 'title')),
  },
  {
    // Gemini CLI scores every user turn on flash-lite with a JSON schema holding complexity_score.
    side: 'complexity-scorer',
    test: ({ call, request }) => schemaHas(asRecord(request.generationConfig)?.responseJsonSchema, 'complexity_score')
      || /Complexity Score/.test(call.system ?? '')
      || (call.client === 'gemini-cli' && /flash-lite/.test(call.model ?? '') && call.tools.length === 0),
  },
  // Claude Code forks the conversation to suggest what the user might type next.
  { side: 'other', test: ({ call }) => lastUserText(call).startsWith('[SUGGESTION MODE:') },
];

export function classifySide(call: LlmCall, headers: HeaderMap, request: JsonRecord | undefined): SideKind | undefined {
  const ctx: SideContext = {
    call,
    request: request ?? {},
    meta: turnMetadata(headers, request, call.transport === 'websocket'),
    path: urlParts(call.url).path,
  };
  return RULES.find((rule) => rule.test(ctx))?.side;
}

function schemaHas(schema: unknown, property: string): boolean {
  return asRecord(asRecord(schema)?.properties)?.[property] !== undefined;
}

function textsOf(message: Message | undefined): string[] {
  return (message?.content ?? []).flatMap((b) => (b.type === 'text' ? [b.text] : []));
}

/**
 * Where a title prompt can be: the system prompt, developer/system messages, and the latest user
 * message. Older user turns are not searched, so a user quoting a title prompt does not count.
 */
function instructionTexts(call: LlmCall): string[] {
  const instructions = call.input.filter((m) => m.role === 'system' || m.role === 'developer').flatMap(textsOf);
  const users = call.input.filter((m) => m.role === 'user');
  return [call.system ?? '', ...instructions, ...textsOf(users.at(-1))];
}

function lastUserText(call: LlmCall): string {
  const users = call.input.filter((m) => m.role === 'user');
  return textsOf(users.at(-1)).join('\n').trimStart();
}
