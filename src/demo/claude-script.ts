// What the demo's Claude Code-like session says, on both sides of the wire: the prompts, system
// prompts and tools the client sends, the outputs of the tools it "runs", and the model's answer
// to each request. The model server finds its answer by the request's cue (the newest user text,
// or the tool result it answers); the ids are fixed, so both sides agree without talking.

export const CLAUDE_MODEL = 'claude-sonnet-4-5-20250929';
export const SUBAGENT_MODEL = 'claude-haiku-4-5-20251001';
export const TITLE_MODEL = 'claude-haiku-4-5-20251001';
export const CLAUDE_USER_AGENT = 'claude-cli/2.1.197 (external, cli)';
/** A made-up key with the real key's shape: the capture must show it redacted, never as it is. */
export const DEMO_ANTHROPIC_KEY = 'sk-ant-demo-api03-LLMCaptureDemoKey0000notARealKey';

export const PROMPT_TODOS = 'How many TODO comments are left in src/? Group them by file.';
export const PROMPT_SUBAGENT = 'Is the ECONNRESET retry already handled somewhere else? Have a subagent look.';
export const BASH_COMMAND = 'grep -rn "TODO" src/';
export const SUBAGENT_PROMPT = 'Search this repository for code that handles ECONNRESET or retries failed HTTP requests. '
  + 'Report each place with its file path and line number, and say whether the request is retried there.';
export const BASH_TOOL_ID = 'toolu_01HxTn6pQd3LmV8wJ2cRzK4a';
export const AGENT_TOOL_ID = 'toolu_01Vb7sXe2NfQ9kPjT5yGwM3d';
const GREP_TOOL_ID = 'toolu_01Qm4ZcW8rTy6HnLb2VxJp7e';

export const MAIN_SYSTEM = `You are Claude Code, Anthropic's official CLI for Claude.
You are an interactive agent that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user.

# Tone and style
- Text you output outside of tool use is displayed to the user as GitHub-flavored Markdown in a terminal.
- Be concise. Answer the question asked, then stop.

# Doing tasks
- Prefer the dedicated search tools over shell commands when one fits; independent tool calls can run in parallel.
- Use the Agent tool to hand a broad search to a subagent, so that its file dumps stay out of this conversation.
- Reference code as \`file_path:line_number\`.

Working directory: /home/dev/demo-app
Platform: linux`;

export const SUBAGENT_SYSTEM = `You are an agent for Claude Code, Anthropic's official CLI for Claude. Given the user's message, use the tools available to complete the task. Do what has been asked; nothing more, nothing less. When you complete the task, respond with a concise report covering what was done and any key findings: the caller relays it to the user.

You are a read-only search agent: do not create or modify files.
Working directory: /home/dev/demo-app`;

export const TITLE_SYSTEM = 'Generate a concise, sentence-case title (3-7 words) that captures the main topic or goal of this coding session. Return JSON with a single "title" field.';

type Schema = Record<string, unknown>;
const object = (properties: Schema, required: string[]): Schema => ({ type: 'object', properties, required, additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' });
const str = (description: string): Schema => ({ type: 'string', description });

export interface ToolDefinition {
  name: string;
  description: string;
  input_schema: Schema;
}

const BASH: ToolDefinition = {
  name: 'Bash',
  description: 'Executes a given bash command and returns its output. The working directory persists between commands.',
  input_schema: object({ command: str('The command to execute'), description: str('Clear, concise description of what this command does in 5-10 words'), timeout: { type: 'number', description: 'Optional timeout in milliseconds (max 600000)' } }, ['command']),
};
const AGENT: ToolDefinition = {
  name: 'Agent',
  description: 'Launch a new agent to handle complex, multi-step tasks autonomously. Available agent types: general-purpose, Explore (read-only codebase search), Plan.',
  input_schema: object({ description: str('A short (3-5 word) description of the task'), prompt: str('The task for the agent to perform'), subagent_type: str('The type of specialized agent to use for this task') }, ['description', 'prompt', 'subagent_type']),
};
const GREP: ToolDefinition = {
  name: 'Grep',
  description: 'A powerful search tool built on ripgrep. Supports full regex syntax; filter files with glob or type.',
  input_schema: object({ pattern: str('The regular expression pattern to search for in file contents'), path: str('File or directory to search in'), output_mode: { type: 'string', enum: ['content', 'files_with_matches', 'count'] }, '-n': { type: 'boolean', description: 'Show line numbers in output' } }, ['pattern']),
};
const GLOB: ToolDefinition = {
  name: 'Glob',
  description: 'Fast file pattern matching tool that works with any codebase size. Returns matching file paths sorted by modification time.',
  input_schema: object({ pattern: str('The glob pattern to match files against'), path: str('The directory to search in') }, ['pattern']),
};
const READ: ToolDefinition = {
  name: 'Read',
  description: 'Reads a file from the local filesystem. Lines are numbered starting at 1.',
  input_schema: object({ file_path: str('The absolute path to the file to read'), offset: { type: 'number' }, limit: { type: 'number' } }, ['file_path']),
};

export const MAIN_TOOLS: readonly ToolDefinition[] = [AGENT, BASH, GLOB, GREP, READ];
export const SUBAGENT_TOOLS: readonly ToolDefinition[] = [BASH, GLOB, GREP, READ];

/** What the client's tools return, by tool call id (the Agent call's result is the subagent's report). */
export const TOOL_OUTPUTS: Readonly<Record<string, string>> = {
  [BASH_TOOL_ID]: [
    'src/server.ts:14:// TODO: read the port from the environment',
    'src/server.ts:88:    // TODO: retry once on ECONNRESET',
    'src/db/cache.ts:31:  // TODO: evict by size, not by count',
  ].join('\n'),
  [GREP_TOOL_ID]: [
    'src/server.ts:88:    // TODO: retry once on ECONNRESET',
    'src/http/client.ts:41:export async function request(url: string, attempt = 0): Promise<Response> {',
    "src/http/client.ts:52:    if (err.code === 'ECONNRESET' && attempt < 2) return request(url, attempt + 1);",
  ].join('\n'),
};

export type ScriptBlock =
  | { type: 'thinking'; thinking: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface ScriptedReply {
  blocks: ScriptBlock[];
  usage: AnthropicUsage;
}

const usage = (input: number, cacheWrite: number, cacheRead: number, output: number): AnthropicUsage =>
  ({ input_tokens: input, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead, output_tokens: output });

export const SUBAGENT_REPORT = [
  'ECONNRESET is already retried in one place:',
  '',
  '- `src/http/client.ts:52`: `request()` retries up to two more times when the socket is reset.',
  '- `src/server.ts:88` only has the TODO. The call there uses `fetch` directly, so it is not retried.',
].join('\n');

export const FINAL_ANSWER = 'Yes, partly. `request()` in `src/http/client.ts:52` already retries a reset socket up to twice, '
  + 'but `src/server.ts:88` calls `fetch` directly. Switching that call to `request()` would resolve the TODO without a second retry loop.';

/** The model's answers: by the prompt they answer, or by `tool:<id>` for the tool result they follow. */
export const CLAUDE_REPLIES: ReadonlyMap<string, ScriptedReply> = new Map<string, ScriptedReply>([
  [PROMPT_TODOS, { usage: usage(4, 9_412, 0, 131), blocks: [
    { type: 'thinking', thinking: 'The user wants the TODO comments under src/, grouped by file. A recursive grep with line numbers lists them all at once.' },
    { type: 'text', text: "I'll search `src/` for TODO comments." },
    { type: 'tool_use', id: BASH_TOOL_ID, name: 'Bash', input: { command: BASH_COMMAND, description: 'Find TODO comments in src/' } },
  ] }],
  [`tool:${BASH_TOOL_ID}`, { usage: usage(1, 212, 9_412, 96), blocks: [
    { type: 'text', text: 'There are **3** TODO comments in `src/`:\n\n- `src/server.ts` (2)\n  - line 14: read the port from the environment\n  - line 88: retry once on ECONNRESET\n- `src/db/cache.ts` (1)\n  - line 31: evict by size, not by count' },
  ] }],
  [PROMPT_SUBAGENT, { usage: usage(3, 164, 9_624, 148), blocks: [
    { type: 'thinking', thinking: 'A read-only search across the repository fits the Explore agent; its findings come back as one report.' },
    { type: 'text', text: "I'll have an Explore agent search the codebase." },
    { type: 'tool_use', id: AGENT_TOOL_ID, name: 'Agent', input: { description: 'Find ECONNRESET handling', subagent_type: 'Explore', prompt: SUBAGENT_PROMPT } },
  ] }],
  [SUBAGENT_PROMPT, { usage: usage(5, 3_871, 0, 64), blocks: [
    { type: 'tool_use', id: GREP_TOOL_ID, name: 'Grep', input: { pattern: 'ECONNRESET|retry', path: 'src', output_mode: 'content', '-n': true } },
  ] }],
  [`tool:${GREP_TOOL_ID}`, { usage: usage(1, 188, 3_871, 83), blocks: [{ type: 'text', text: SUBAGENT_REPORT }] }],
  [`tool:${AGENT_TOOL_ID}`, { usage: usage(1, 305, 9_788, 71), blocks: [{ type: 'text', text: FINAL_ANSWER }] }],
]);

export const TITLE = 'Count TODO comments in src';
export const TITLE_USAGE = usage(96, 0, 0, 11);
