// `llm-capture export --otlp`: sends stored sessions to an OpenTelemetry collector after the fact,
// whole (every span, whatever the live export's cursor says), with the same ids the live export
// gives them, so a backend that deduplicates by id shows each span once.
import { version } from '../../package.json';
import { assembleSessions } from '../app/session-index';
import type { SessionDetail } from '../conversation/types';
import { sessionSpans } from '../telemetry/genai-spans';
import { spanBatches } from '../telemetry/span-batches';
import type { OtlpConfig } from '../telemetry/otlp-config';
import { UsageError } from './args';
import { withStore } from './store-access';

export interface OtlpExportRequest {
  dataDir: string;
  config: OtlpConfig;
  /** Session ids or unique prefixes; all sessions when empty. */
  sessions: string[];
  /** Only sessions active on or after this time. */
  since?: number;
}

export async function exportOtlp(request: OtlpExportRequest): Promise<void> {
  const details = await withStore(request.dataDir, 'reader', (store) => {
    const assembler = assembleSessions(store);
    const ids = request.sessions.length > 0 ? request.sessions.map((id) => pick(assembler.sessionIds(), id)) : assembler.sessionIds();
    return ids.map((id) => assembler.session(id)).filter((d): d is SessionDetail => d !== undefined && (request.since === undefined || d.summary.endedAt >= request.since));
  });
  if (details.length === 0) {
    process.stdout.write('no sessions to send\n');
    return;
  }
  const { config } = request;
  // require, not import(): the bundle evaluates the OpenTelemetry packages only now, and the worker
  // threads that tests run from source have tsx's CommonJS hook only, where import() finds no .ts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OtlpSender } = require('../telemetry/otlp-sender') as typeof import('../telemetry/otlp-sender');
  const sender = new OtlpSender(config, { version });
  let sent = 0;
  try {
    for (const detail of details) {
      const spans = sessionSpans(detail, { content: config.content, legacyNames: !config.latestOnly, idleMs: config.agentIdleMs, contentLimit: { maxChars: config.attributeLimit } });
      for (const batch of spanBatches(spans.sort((a, b) => a.readyAt - b.readyAt))) {
        try {
          await sender.send(batch);
        } catch (e) {
          throw new Error(`the collector at ${config.tracesUrl} did not take the spans: ${(e as Error).message} (${sent} spans were sent before)`);
        }
        sender.record(batch);
        sent += batch.length;
      }
    }
  } finally {
    await sender.shutdown();
  }
  process.stdout.write(`sent ${sent} spans of ${details.length} session(s) to ${config.tracesUrl}${config.content ? ' (with content)' : ''}\n`);
}

function pick(ids: string[], id: string): string {
  const matches = ids.filter((s) => s === id || s.startsWith(id));
  if (matches.includes(id)) return id;
  if (matches.length === 1) return matches[0]!;
  throw new UsageError(matches.length > 1 ? `"${id}" matches ${matches.length} sessions; give more of the id` : `no session "${id}"`);
}
