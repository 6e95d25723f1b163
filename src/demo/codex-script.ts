// What the demo's Codex-like session says over its Responses WebSocket: a prewarm, the prompt
// (answered with reasoning and an `exec_command` call), and the command's output (answered with
// text). As with the Claude script, the server picks each answer by the frame's cue.

export const CODEX_MODEL = 'gpt-5.5';
export const CODEX_VERSION = '0.169.0';
/** A made-up key: it must show up redacted. */
export const DEMO_OPENAI_KEY = 'sk-demo-proj-LLMCaptureDemoKey0000notARealKey';
export const CODEX_PROMPT = 'Run the unit tests and tell me whether anything fails.';
export const CODEX_CALL_ID = 'call_Zt4mK9qLx2VbN7cR1pHs8wEd';
export const CODEX_COMMAND = 'npm test --silent';

export const CODEX_INSTRUCTIONS = `You are Codex, a coding agent based on GPT-5. You and the user share one workspace, and your job is to collaborate with them until their goal is genuinely handled.

# How you work
- Use \`exec_command\` to run shell commands; read before you change anything.
- Keep answers short: say what you found and what you changed.`;

export const CODEX_ENVIRONMENT = `<environment_context>
  <cwd>/home/dev/demo-app</cwd>
  <approval_policy>on-request</approval_policy>
  <sandbox_mode>workspace-write</sandbox_mode>
  <shell>bash</shell>
</environment_context>`;

export const CODEX_TOOLS: readonly Record<string, unknown>[] = [
  {
    type: 'function', name: 'exec_command', strict: false,
    description: 'Runs a command in a PTY, returning output or a session ID for ongoing interaction.',
    parameters: { type: 'object', additionalProperties: false, required: ['cmd'], properties: {
      cmd: { type: 'string', description: 'Shell command to execute.' },
      workdir: { type: 'string', description: 'Optional working directory to run the command in; defaults to the turn cwd.' },
      yield_time_ms: { type: 'number', description: 'How long to wait (in milliseconds) for output before yielding.' },
    } },
  },
  {
    type: 'function', name: 'apply_patch', strict: false,
    description: 'Use the `apply_patch` tool to edit files. The patch language is a stripped-down, file-oriented diff format.',
    parameters: { type: 'object', additionalProperties: false, required: ['input'], properties: { input: { type: 'string', description: 'The entire contents of the apply_patch command' } } },
  },
];

export const CODEX_ARGUMENTS = { cmd: CODEX_COMMAND, workdir: '/home/dev/demo-app', yield_time_ms: 10_000 };

export const CODEX_TOOL_OUTPUT = [
  'Chunk ID: 5f1c2a',
  'Wall time: 1.8412 seconds',
  'Process exited with code 1',
  'Original token count: 118',
  'Output:',
  '✔ config › reads defaults (2.1ms)',
  '✔ config › rejects a negative port (0.6ms)',
  '✔ cache › evicts the oldest entry (0.9ms)',
  '✖ server › answers /health with 200 (15.3ms)',
  '  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:',
  '  503 !== 200',
  '      at TestContext.<anonymous> (test/server.test.ts:27:10)',
  'ℹ tests 12',
  'ℹ pass 11',
  'ℹ fail 1',
].join('\n');

export const CODEX_ANSWER = 'One test fails: **server › answers /health with 200** gets `503`. The other 11 pass.\n\n'
  + 'The health handler answers 503 until the cache has warmed up, and the test does not wait for it. '
  + 'Either await `cache.ready()` in the test, or let `/health` report 200 with `"cache": "warming"`.';

export type OutputItem = Record<string, unknown> & { type: string; id: string };

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponsesReply {
  output: OutputItem[];
  usage: ResponsesUsage;
}

const usage = (input: number, cached: number, output: number, reasoning: number): ResponsesUsage => ({
  input_tokens: input, input_tokens_details: { cached_tokens: cached },
  output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output,
});

/** Answers by cue: `prewarm`, the prompt, or `tool:<call_id>` for a function call's output. */
export const CODEX_REPLIES: ReadonlyMap<string, ResponsesReply> = new Map<string, ResponsesReply>([
  ['prewarm', { output: [], usage: usage(2_714, 0, 0, 0) }],
  [CODEX_PROMPT, { usage: usage(2_958, 2_688, 96, 40), output: [
    { type: 'reasoning', id: 'rs_0c4f1e9a7b2d3c51', summary: [{ type: 'summary_text', text: '**Running the test suite**\n\nI will run the tests once and read the summary at the end.' }], encrypted_content: 'gAAAAABdemo-encrypted-reasoning' },
    { type: 'function_call', id: 'fc_0c4f1e9a7b2d3c52', call_id: CODEX_CALL_ID, name: 'exec_command', arguments: JSON.stringify(CODEX_ARGUMENTS), status: 'completed' },
  ] }],
  [`tool:${CODEX_CALL_ID}`, { usage: usage(3_212, 2_944, 88, 0), output: [
    { type: 'message', id: 'msg_0c4f1e9a7b2d3c53', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: CODEX_ANSWER, annotations: [] }] },
  ] }],
]);
