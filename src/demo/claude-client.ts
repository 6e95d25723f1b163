// A scripted client that speaks like Claude Code: its headers and body shape (session id in a
// header and in metadata.user_id, a billing line in the system prompt, the whole history resent
// each time), a title request on Haiku, and a real agent loop: the streamed answer is rebuilt
// from its SSE events, tool calls are "run" from the script, and the Agent tool runs a subagent
// (its own system prompt, the call's prompt as its first message) whose report goes back as the
// tool result.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { SseStream } from '../capture/sse-stream';
import { plainRequest } from '../proxy/plain-request';
import {
  CLAUDE_MODEL, CLAUDE_USER_AGENT, DEMO_ANTHROPIC_KEY, MAIN_SYSTEM, MAIN_TOOLS, PROMPT_SUBAGENT, PROMPT_TODOS, SUBAGENT_MODEL,
  SUBAGENT_SYSTEM, SUBAGENT_TOOLS, TITLE_MODEL, TITLE_SYSTEM, TOOL_OUTPUTS, type ToolDefinition,
} from './claude-script';
import { agentThroughProxy, type ProxyEndpoint } from './proxy-tunnel';

type Json = Record<string, unknown>;
const HOST = 'api.anthropic.com';
const LABEL = 'demo-claude';
const MAIN_BETA = 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,prompt-caching-scope-2026-01-05';
const SIDE_BETA = 'interleaved-thinking-2025-05-14,prompt-caching-scope-2026-01-05';

interface Thread {
  model: string;
  system: string;
  tools: readonly ToolDefinition[];
  thinking: boolean;
  messages: Json[];
}

interface Answer {
  content: Json[];
  stopReason: string | undefined;
}

/** Runs the Claude Code-like session (title, a Bash turn, a subagent turn); returns its session id. */
export async function runClaudeLike(proxy: ProxyEndpoint): Promise<string> {
  const sessionId = randomUUID();
  const client = new ClaudeLikeClient(proxy, sessionId);
  await client.title(PROMPT_TODOS);
  const main: Thread = { model: CLAUDE_MODEL, system: MAIN_SYSTEM, tools: MAIN_TOOLS, thinking: true, messages: [] };
  const today = new Date().toISOString().slice(0, 10);
  const reminder = `<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# currentDate\nToday's date is ${today}.\n</system-reminder>\n`;
  await client.converse(main, [{ type: 'text', text: reminder }, { type: 'text', text: PROMPT_TODOS }]);
  await client.converse(main, [{ type: 'text', text: PROMPT_SUBAGENT }]);
  return sessionId;
}

class ClaudeLikeClient {
  private readonly userId: string;
  private readonly billing = `x-anthropic-billing-header: cc_version=2.1.197.43e; cc_entrypoint=cli; cch=${randomBytes(3).toString('hex').slice(0, 5)};`;

  constructor(private readonly proxy: ProxyEndpoint, private readonly sessionId: string) {
    this.userId = JSON.stringify({ device_id: randomBytes(32).toString('hex'), account_uuid: '', session_id: sessionId });
  }

  /** The agent loop: ask, run the tools the answer calls, send their results, until the model stops. */
  async converse(thread: Thread, userContent: Json[]): Promise<string> {
    thread.messages.push({ role: 'user', content: userContent });
    for (let step = 0; step < 8; step++) {
      const answer = await this.stream(thread);
      thread.messages.push({ role: 'assistant', content: answer.content });
      const calls = answer.content.filter((b) => b.type === 'tool_use');
      if (answer.stopReason !== 'tool_use' || calls.length === 0) {
        return answer.content.filter((b) => b.type === 'text').map((b) => String(b.text)).join('\n');
      }
      const results: Json[] = [];
      for (const call of calls) results.push({ type: 'tool_result', tool_use_id: call.id, ...await this.runTool(call) });
      thread.messages.push({ role: 'user', content: results });
    }
    throw new Error('the demo conversation did not end');
  }

  async title(prompt: string): Promise<void> {
    const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'], additionalProperties: false };
    await this.post(SIDE_BETA, {
      model: TITLE_MODEL, max_tokens: 512, system: [{ type: 'text', text: this.billing }, { type: 'text', text: TITLE_SYSTEM }],
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }], tools: [], thinking: { type: 'disabled' },
      output_config: { format: { type: 'json_schema', schema } }, metadata: { user_id: this.userId }, stream: false,
    });
  }

  private async runTool(call: Json): Promise<Json> {
    const input = (call.input ?? {}) as Json;
    if (call.name === 'Agent') {
      const sub: Thread = { model: SUBAGENT_MODEL, system: SUBAGENT_SYSTEM, tools: SUBAGENT_TOOLS, thinking: false, messages: [] };
      const report = await this.converse(sub, [{ type: 'text', text: String(input.prompt) }]);
      const agentId = randomBytes(4).toString('hex');
      return { content: [{ type: 'text', text: report }, { type: 'text', text: `agentId: ${agentId} (use SendMessage with to: '${agentId}' to continue this agent)` }] };
    }
    const output = TOOL_OUTPUTS[String(call.id)];
    return output === undefined ? { content: `demo: no scripted output for ${String(call.name)}`, is_error: true } : { content: output };
  }

  private async stream(thread: Thread): Promise<Answer> {
    const res = await this.post(MAIN_BETA, {
      model: thread.model, max_tokens: 32_000, stream: true,
      system: [{ type: 'text', text: this.billing }, { type: 'text', text: thread.system, cache_control: { type: 'ephemeral' } }],
      tools: thread.tools, messages: thread.messages, metadata: { user_id: this.userId },
      ...(thread.thinking ? { thinking: { type: 'enabled', budget_tokens: 31_999 } } : {}),
    });
    return readAnswer(res);
  }

  private async post(beta: string, body: Json): Promise<IncomingMessage> {
    const agent = await agentThroughProxy(this.proxy, LABEL, HOST);
    const payload = Buffer.from(JSON.stringify(body));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = plainRequest('https', {
        host: HOST, port: 443, method: 'POST', path: '/v1/messages?beta=true', agent,
        headers: {
          accept: 'application/json', 'content-type': 'application/json', 'content-length': payload.length,
          'user-agent': CLAUDE_USER_AGENT, 'x-claude-code-session-id': this.sessionId, 'x-app': 'cli',
          'anthropic-version': '2023-06-01', 'anthropic-beta': beta, 'anthropic-dangerous-direct-browser-access': 'true',
          'x-api-key': DEMO_ANTHROPIC_KEY, 'x-stainless-lang': 'js', 'x-stainless-retry-count': '0',
          'x-client-request-id': randomUUID(), 'accept-encoding': 'gzip, deflate, br, zstd',
        },
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(payload);
    });
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw new Error(`${HOST} answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`);
    }
    if (body.stream !== true) res.resume();
    return res;
  }
}

/** The assistant message rebuilt from the SSE events, as Claude Code does before resending it. */
async function readAnswer(res: IncomingMessage): Promise<Answer> {
  const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
  const sse = new SseStream();
  const content: Json[] = [];
  const partialJson: string[] = [];
  let stopReason: string | undefined;
  const apply = (e: Json): void => {
    const index = Number(e.index ?? 0);
    const delta = (e.delta ?? {}) as Json;
    const block = content[index] ?? {};
    if (e.type === 'content_block_start') content[index] = { ...(e.content_block as Json) };
    else if (e.type === 'content_block_delta' && delta.type === 'text_delta') block.text = String(block.text ?? '') + String(delta.text);
    else if (e.type === 'content_block_delta' && delta.type === 'thinking_delta') block.thinking = String(block.thinking ?? '') + String(delta.thinking);
    else if (e.type === 'content_block_delta' && delta.type === 'signature_delta') block.signature = delta.signature;
    else if (e.type === 'content_block_delta' && delta.type === 'input_json_delta') partialJson[index] = (partialJson[index] ?? '') + String(delta.partial_json);
    else if (e.type === 'content_block_stop' && block.type === 'tool_use') block.input = JSON.parse(partialJson[index] || '{}');
    else if (e.type === 'message_delta') stopReason = delta.stop_reason as string | undefined;
    else if (e.type === 'error') throw new Error(`the model stream failed: ${JSON.stringify(e.error)}`);
  };
  for await (const chunk of body) for (const event of sse.push(chunk as Buffer)) apply(JSON.parse(event.data) as Json);
  sse.end();
  return { content, stopReason };
}
