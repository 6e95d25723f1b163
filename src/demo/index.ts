// The demo's public surface, shared by `llm-capture demo` and "LLM Capture: Open a Demo Session".
export { runDemo } from './run-demo';
export type { DemoLog, DemoOptions, DemoResult } from './run-demo';
export { DemoDirError, DEMO_MARKER, isDemoDir } from './demo-dir';
export { DEMO_ANTHROPIC_KEY, PROMPT_TODOS, PROMPT_SUBAGENT, BASH_COMMAND, SUBAGENT_PROMPT } from './claude-script';
export { DEMO_OPENAI_KEY, CODEX_PROMPT, CODEX_COMMAND, CODEX_ANSWER } from './codex-script';
