// Why, with the real Claude Code (decision 68): three processes on one session id, each through the
// capture service to a fake Messages API that simulates the prompt cache. The second resumes with
// an appended system prompt, the third adds an MCP server (a stdio one, started by Claude Code
// itself). `llm-capture show --json` must show the system prompt's diff and the new tool, and name
// each cache break for what changed; `--markdown` says the same in words.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallInsight, SessionDetail } from '../../src/conversation';
import { startFakeAnthropic, type FakeApiServer } from '../support/fake-anthropic';
import { createTestPki, type TestPki } from '../support/test-pki';
import { runCli } from '../cli/cli-process';
import { AGENT_TIMEOUT_MS, agentEnv, agentGate, describeRun, makeScratch, runAgent, startCaptureService } from './harness';

const ANTHROPIC = 'api.anthropic.com';
const APPENDED = 'Always answer in French.';
const gate = agentGate('claude');

/** A stdio MCP server with one tool, speaking newline-delimited JSON-RPC as the MCP spec's stdio transport does. */
const MCP_SERVER = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
rl.on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.id === undefined) return;
  if (msg.method === 'initialize') send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'docs', version: '1.0.0' } } });
  else if (msg.method === 'tools/list') send({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'lookup', description: 'Look a word up in the project docs', inputSchema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] } }] } });
  else send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'not supported' } });
});
`;

describe('what changed and why the cache missed, with the real Claude Code', { timeout: 6 * AGENT_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let anthropic: FakeApiServer;

  before(async () => {
    if (gate.problem) return;
    pki = createTestPki();
    anthropic = await startFakeAnthropic(pki.serverCert([ANTHROPIC]), { promptCache: true });
  });

  after(async () => {
    await anthropic?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  test('--resume with an appended system prompt, then with an MCP tool: each diff shown, each cache break named', { skip: gate.skip }, async () => {
    const binary = gate.binary();
    const sessionId = randomUUID();
    const capture = await startCaptureService(pki.caCertPath, { [ANTHROPIC]: anthropic.port });
    const scratch = makeScratch('claude');
    try {
      const mcpServer = join(scratch.work, 'docs-mcp.cjs');
      writeFileSync(mcpServer, MCP_SERVER);
      const mcpConfig = join(scratch.work, 'mcp.json');
      writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { docs: { command: process.execPath, args: [mcpServer] } } }));
      const env = agentEnv(scratch, capture.service.proxy.environment(), { ANTHROPIC_API_KEY: 'sk-ant-api03-llm-capture-fake-key-0123456789', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        // Claude Code 2.1.197 would send its first request while the MCP server still connects, and
        // announce MCP tools in a message for ToolSearch: wait for the server, and send its tools as tools.
        MCP_CONNECTION_NONBLOCKING: 'false', ENABLE_TOOL_SEARCH: 'false',
      });
      const run = async (args: string[]): Promise<void> => {
        const result = await runAgent(binary, ['--output-format', 'json', ...args], { env, cwd: scratch.work });
        await capture.settled();
        assert.equal(result.code, 0, describeRun(result));
      };
      await run(['-p', 'say hi', '--session-id', sessionId]);
      await run(['-p', 'say it again', '--resume', sessionId, '--append-system-prompt', APPENDED]);
      await run(['-p', 'and once more', '--resume', sessionId, '--append-system-prompt', APPENDED, '--mcp-config', mcpConfig]);
      await capture.stop();

      const detail = JSON.parse(await captureCli(['show', sessionId, '--json', '--data-dir', capture.dataDir])) as SessionDetail;
      const calls = detail.threads.find((t) => t.kind === 'main')!.calls;
      assert.equal(calls.length, 3, JSON.stringify(calls, null, 2));
      const [first, resumed, withMcp] = calls as [CallInsight, CallInsight, CallInsight];
      assert.deepEqual(first.cache?.causes, ['first-call']);
      assert.ok(first.cache!.cacheWriteTokens > 0, 'the fake wrote the first prompt to its cache');

      const added = resumed.changes.system?.hunks.flatMap((h) => h.lines.filter((l) => l.startsWith('+'))) ?? [];
      assert.ok(added.some((l) => l.includes(APPENDED)), `the diff shows the appended prompt:\n${JSON.stringify(resumed.changes.system, null, 2)}`);
      // Claude Code 2.1.197 also rewrites its Bash tool's description on --resume (the Co-Authored-By
      // line names the model without "(1M context)"), and tools come first in the prompt.
      assert.ok(resumed.cache?.causes?.includes('system-changed'), JSON.stringify({ cache: resumed.cache, tools: resumed.changes.tools }, null, 1));
      assert.ok(resumed.cache!.missedTokens! > 0);
      assert.deepEqual(resumed.changes.history.messages.map((m) => m.role).slice(-1), ['user']);

      assert.deepEqual(withMcp.changes.tools?.added, ['mcp__docs__lookup'], JSON.stringify(calls.map((c) => c.changes), null, 2));
      assert.equal(withMcp.cache?.causes?.[0], 'tools-changed', JSON.stringify(withMcp.cache));
      assert.equal(detail.summary.cache.breaks, 2);

      const markdown = await captureCli(['show', sessionId, '--markdown', '--data-dir', capture.dataDir]);
      assert.match(markdown, /cache break: [^(]*system prompt changed/);
      assert.match(markdown, /tools \+mcp__docs__lookup/);
      assert.match(markdown, /- Prompt cache: cache hit \d+% of [\d,]+ input tokens · 2 breaks/);
    } finally {
      scratch.cleanup();
      await capture.close();
    }
  });
});

/** `llm-capture ARGS` as a user runs it; its stdout. */
async function captureCli(args: string[]): Promise<string> {
  const run = await runCli(args);
  assert.equal(run.code, 0, `llm-capture ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}
