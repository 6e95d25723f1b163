// `llm-capture sessions` and `llm-capture show SESSION`: the conversations in the store.
// Their --json output is a stable contract (docs/cli.md): fields are added, never renamed or dropped.
import { formatCost, formatUsage, renderMarkdownTranscript, type SessionSummary } from '../conversation';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildViewModel } from '../app/conversation-view-builder';
import { writePrivateFile } from '../app/private-file';
import { loadExportAssets, sessionHtml } from '../app/session-html-export';
import { assembleSessions } from '../app/session-index';
import { parse, UsageError } from './args';
import { resolveDataDir, withStore } from './store-access';

export async function sessionsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const sessions = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) =>
    assembleSessions(store).sessions().sort((a, b) => b.startedAt - a.startedAt));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    return;
  }
  if (sessions.length === 0) process.stdout.write('no sessions captured yet\n');
  for (const s of sessions) process.stdout.write(`${summaryLine(s)}\n`);
}

export async function showCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    'data-dir': { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' }, full: { type: 'boolean' }, html: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('show needs exactly one SESSION id');
  if (values.json && values.markdown) throw new UsageError('--json and --markdown cannot be combined');
  // JSON is never cut, so --full would mean nothing there.
  if (values.json && values.full) throw new UsageError('--full goes with --markdown; --json is always whole');
  if (values.html !== undefined && (values.json || values.markdown || values.full)) throw new UsageError('--html FILE writes a page; it goes with no other format');
  if (values.html === '') throw new UsageError('--html needs a FILE to write');
  const id = positionals[0];
  const detail = await withStore(resolveDataDir(values['data-dir']), 'reader', (store) => {
    const assembler = assembleSessions(store);
    // A unique prefix is enough, as with git hashes.
    const matches = assembler.sessionIds().filter((s) => s === id || s.startsWith(id));
    const exact = matches.includes(id) ? id : matches.length === 1 ? matches[0] : undefined;
    if (!exact) throw new Error(matches.length > 1 ? `"${id}" matches ${matches.length} sessions; give more of the id` : `no session "${id}"`);
    return assembler.session(exact);
  });
  if (!detail) throw new Error(`no session "${id}"`);
  if (values.html !== undefined) {
    const assets = await loadExportAssets(webviewDir());
    await writePrivateFile(values.html, sessionHtml(buildViewModel(detail), assets));
    process.stdout.write(`wrote session ${detail.id} to ${values.html}\n`);
    return;
  }
  process.stdout.write(values.json ? `${JSON.stringify(detail, null, 2)}\n` : renderMarkdownTranscript(detail, { full: values.full ?? false }));
}

function summaryLine(s: SessionSummary): string {
  const when = new Date(s.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${s.id}  ${when}  ${s.client}  ${s.model ?? '-'}  ${s.turnCount} turn(s)  ${formatUsage(s.usage)}  ${formatCost(s.costUsd, s.unpricedModels)}  ${s.title}`;
}

/** dist/webview beside the CLI's bundle (dist/cli.js), or in the checkout when run from source. */
function webviewDir(): string {
  const beside = join(__dirname, 'webview');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', 'dist', 'webview');
}
