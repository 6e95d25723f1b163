// A session as a Markdown transcript (`show --markdown`): threads, turns, what the model said
// and did, tool calls with their results, usage and cost. Captured content is untrusted and may
// contain fences or HTML: code blocks use a fence longer than any backtick run inside them, and
// whoever renders this as HTML must sanitise it (the webview does).
import { callsByTurn } from './call-insights';
import { cacheLine, cacheSummaryLine, changeLine, diffBody } from './insight-text';
import type { CallInsight, SessionDetail, Step, Thread, Turn, UsageTotals } from './types';

export interface MarkdownOptions {
  /** Show thinking (folded). Default true. */
  thinking?: boolean;
  /** Show client scaffolding (folded). Default true. */
  scaffolding?: boolean;
  /** System prompts, injected context, tool outputs and arguments longer than this are cut. Default 4000 characters. */
  maxToolChars?: number;
  /** Cut nothing: every prompt, context block, tool call and side-call answer whole (`show --full`). */
  full?: boolean;
}

/** What the renderers use: every option decided. */
type Resolved = Required<Omit<MarkdownOptions, 'full'>> & { sideAnswerChars: number; sidePromptChars: number };

function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}

function quote(text: string): string {
  return text.split('\n').map((l) => `> ${l}`).join('\n');
}

function folded(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

function time(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '?';
}

export function formatCost(costUsd: number | null, unpriced: readonly string[]): string {
  if (costUsd === null) return `unknown (no price for ${unpriced.join(', ')})`;
  return `$${costUsd < 0.01 && costUsd > 0 ? costUsd.toFixed(6) : costUsd.toFixed(4)}`;
}

export function formatUsage(u: UsageTotals): string {
  return `${u.inputTokens} in · ${u.outputTokens} out · ${u.cacheReadTokens} cache read · ${u.cacheWriteTokens} cache write`;
}

function toolCall(step: Step, max: number): string {
  const status = step.output === undefined ? ' (no result)' : step.isError ? ' (error)' : '';
  const link = step.subagentThreadId ? ` → subagent \`${step.subagentThreadId}\`` : '';
  const args = step.arguments ?? '';
  const lang = /^\s*[[{]/.test(args) ? 'json' : '';
  let out = `**Tool call** \`${step.name ?? '?'}\` \`${step.callId ?? ''}\`${status}${link}\n\n${fence(cut(args, max), lang)}`;
  if (step.output !== undefined) out += `\n\n${folded(step.isError ? 'Result (error)' : 'Result', fence(cut(step.output, max)))}`;
  return out;
}

function renderSteps(steps: readonly Step[], options: Resolved): string[] {
  const out: string[] = [];
  let context: Step[] = [];
  const flush = () => {
    if (context.length === 0) return;
    if (options.scaffolding) {
      const body = context.map((s) => `*${s.scaffoldingKind ?? s.role}*\n\n${fence(cut(s.text ?? '', options.maxToolChars))}`).join('\n\n');
      out.push(folded(`Context injected by the client (${context.length})`, body));
    }
    context = [];
  };
  const paired = new Set(steps.filter((s) => s.type === 'tool_call' && s.output !== undefined).map((s) => s.callId));
  for (const step of steps) {
    if (step.scaffolding) {
      context.push(step);
      continue;
    }
    flush();
    const alt = step.alternative ? ' *(alternative answer to a repeated request)*' : '';
    if (step.type === 'text') out.push(`**${step.role === 'assistant' ? 'Assistant' : step.role === 'user' ? 'User' : 'System'}**${alt}\n\n${step.text ?? ''}`);
    else if (step.type === 'thinking' && options.thinking) out.push(folded(step.redacted ? 'Thinking (encrypted or redacted)' : 'Thinking', step.text ?? ''));
    else if (step.type === 'tool_call') out.push(toolCall(step, options.maxToolChars));
    else if (step.type === 'tool_result' && !paired.has(step.callId)) {
      out.push(`**Tool result** \`${step.callId ?? ''}\`${step.isError ? ' (error)' : ''}\n\n${fence(cut(step.output ?? '', options.maxToolChars))}`);
    }
  }
  flush();
  return out;
}

/** Each model call of the turn: what its request changed and what it read from the cache (decision 68). */
function renderCalls(calls: readonly CallInsight[], options: Resolved): string | undefined {
  if (calls.length === 0) return undefined;
  const lines = calls.map((c) => {
    const cache = c.cache ? `\n  - Cache: ${cacheLine(c.cache)}${c.cache.missedTokens !== undefined && c.cache.explanation ? ` ${c.cache.explanation}` : ''}` : '';
    return `- Call \`${c.callId}\` · ${changeLine(c)}${cache}`;
  });
  const diffs: string[] = [];
  for (const c of calls) {
    const { system, tools } = c.changes;
    if (system && !system.billingHeaderOnly) diffs.push(folded(`System prompt changed at call ${c.callId}`, fence(cut(diffBody(system), options.maxToolChars), 'diff')));
    for (const t of tools?.changed ?? []) diffs.push(folded(`Tool \`${t.name}\` changed at call ${c.callId}`, fence(cut(diffBody(t.diff), options.maxToolChars), 'diff')));
  }
  return [folded(`Model calls (${calls.length})`, lines.join('\n')), ...diffs].join('\n\n');
}

function renderTurn(turn: Turn, calls: readonly CallInsight[], options: Resolved): string {
  const retries = turn.retries > 0 ? ` · ${turn.retries} retr${turn.retries === 1 ? 'y' : 'ies'}` : '';
  const breaks = calls.filter((c) => c.cache?.missedTokens !== undefined).length;
  const broke = breaks > 0 ? ` · ${breaks} cache break${breaks === 1 ? '' : 's'}` : '';
  const head = `### Turn ${turn.index + 1} · ${time(turn.startedAt)} · ${formatUsage(turn.usage)} · ${formatCost(turn.costUsd, turn.unpricedModels)}${retries}${broke}`;
  const prompt = turn.prompt === '' ? '*(no user prompt)*' : `**User**\n\n${quote(turn.prompt)}`;
  const callPart = renderCalls(calls, options);
  return [head, prompt, ...(callPart ? [callPart] : []), ...renderSteps(turn.steps, options)].join('\n\n');
}

function threadHeading(thread: Thread): string {
  const model = thread.model ? ` · ${thread.model}` : '';
  if (thread.kind === 'main') return `## Main thread${model}`;
  if (thread.kind === 'side') return `## Side calls: ${thread.sideKind ?? 'other'}${model}`;
  const parent = thread.parentToolCallId
    ? ` · started by tool call \`${thread.parentToolCallId}\`${thread.parentThreadId ? ` in \`${thread.parentThreadId}\`` : ''}`
    : thread.parentToolCallCandidates ? ` · started by one of ${thread.parentToolCallCandidates.map((c) => `\`${c}\``).join(', ')}` : ' · parent unknown';
  return `## Subagent \`${thread.id}\`${model}${parent}`;
}

function renderSideThread(thread: Thread, options: Resolved): string {
  const lines = thread.turns.map((t) => {
    const answer = t.steps.filter((s) => s.type === 'text' && !s.scaffolding).map((s) => s.text).join(' ').replace(/\s+/g, ' ').slice(0, options.sideAnswerChars);
    const asked = t.prompt ? ` ${t.prompt.replace(/\s+/g, ' ').slice(0, options.sidePromptChars)} →` : '';
    return `- ${time(t.startedAt)}${asked} ${answer || '(no text)'} · ${formatUsage(t.usage)} · ${formatCost(t.costUsd, t.unpricedModels)}`;
  });
  return [threadHeading(thread), ...lines].join('\n');
}

export function renderMarkdownTranscript(detail: SessionDetail, opts: MarkdownOptions = {}): string {
  const options: Resolved = {
    thinking: opts.thinking ?? true,
    scaffolding: opts.scaffolding ?? true,
    maxToolChars: opts.full ? Infinity : opts.maxToolChars ?? 4000,
    sideAnswerChars: opts.full ? Infinity : 200,
    sidePromptChars: opts.full ? Infinity : 80,
  };
  const s = detail.summary;
  const parts = [
    `# ${s.title}`,
    [
      `- Session: \`${s.id}\` (${s.client}, ${s.provider}${detail.mergedSessionIds.length ? `; also ${detail.mergedSessionIds.map((m) => `\`${m}\``).join(', ')}` : ''})`,
      `- Model: ${s.model ?? 'unknown'}`,
      `- Time: ${time(s.startedAt)} → ${time(s.endedAt)}`,
      `- Threads: ${s.threadCount} · Turns: ${s.turnCount} · Model calls: ${s.callCount}`,
      `- Tokens: ${formatUsage(s.usage)}`,
      `- Cost: ${formatCost(s.costUsd, s.unpricedModels)}`,
      ...(cacheSummaryLine(s.cache) ? [`- Prompt cache: ${cacheSummaryLine(s.cache)}`] : []),
    ].join('\n'),
  ];
  for (const thread of detail.threads) {
    if (thread.kind === 'side') {
      parts.push(renderSideThread(thread, options));
      continue;
    }
    parts.push(threadHeading(thread));
    if (thread.systemPrompt) parts.push(folded('System prompt', fence(cut(thread.systemPrompt, options.maxToolChars))));
    const calls = callsByTurn(thread.calls);
    for (const turn of thread.turns) parts.push(renderTurn(turn, calls.get(turn.index) ?? [], options));
  }
  return `${parts.join('\n\n')}\n`;
}
