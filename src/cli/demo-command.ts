// `llm-capture demo`: what LLM Capture does, without an agent or an API key. Runs the scripted
// demo (src/demo) into a directory of its own, prints the sessions it captured and the commands
// to look closer, then how to capture a real agent.
import { basename, join } from 'node:path';
import { shellWord } from '../app/shell-format';
import { DemoDirError, runDemo } from '../demo';
import { parse, UsageError } from './args';
import { defaultDataDir } from './data-dir';
import { sessionsCommand } from './sessions-commands';

export async function demoCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const dataDir = values['data-dir'] ?? join(defaultDataDir(), 'demo');
  process.stdout.write('LLM Capture demo: a scripted Claude Code-like and Codex-like agent talk to a stand-in model server\n'
    + 'through the capturing proxy. Nothing leaves 127.0.0.1, and your own captures are not touched.\n\n');
  const started = Date.now();
  let result;
  try {
    result = await runDemo({
      dataDir,
      log: (level, message) => {
        if (level === 'warn' || level === 'error') process.stderr.write(`[${level}] ${message}\n`);
      },
    });
  } catch (e) {
    if (e instanceof DemoDirError) throw new Error(e.message);
    throw new Error(`the demo failed: ${(e as Error).message}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`captured ${result.sessions.length} sessions into ${dataDir} in ${seconds} s:\n`);
  await sessionsCommand(['--data-dir', dataDir]);

  const dir = `--data-dir ${shellWord(dataDir)}`;
  const rows: [string, string][] = [
    [`llm-capture show ${result.claudeSessionId} --markdown ${dir}`, 'the Claude Code-like session: prompts, thinking, the Bash call and its output, the subagent'],
    [`llm-capture show ${result.codexSessionId} --json ${dir}`, 'the Codex-like WebSocket session, as JSON'],
    [`llm-capture log ${dir}`, 'every exchange: SSE streams, the WebSocket, tunnels'],
    [`llm-capture export --har demo.har ${dir}`, 'all of it as HAR 1.2 (the API keys redacted)'],
  ];
  process.stdout.write(`\nLook closer:\n${rows.map(([command, what]) => `  ${command}\n      ${what}\n`).join('')}`);
  process.stdout.write('\nCapture a real agent:\n'
    + '  llm-capture proxy              # in one shell: the capturing proxy\n'
    + '  eval "$(llm-capture env)"      # in another shell: send its agents through the proxy\n'
    + '  claude                         # or codex, opencode, …; then llm-capture sessions\n'
    + onPathHint());
}

/** How the user can type `llm-capture`: already, when it was run by that name; otherwise a hint. */
function onPathHint(): string {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'llm-capture') return '';
  return `\n"llm-capture" above means: node ${shellWord(script)}\n`
    + '(`npm link` in the checkout, or "Put llm-capture on your PATH" in the README, makes it a command).\n';
}
