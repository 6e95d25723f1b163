// The live OTLP export: every few seconds, the spans that became complete since the cursor are
// built from the sessions and sent, oldest first, and the cursor moves past them once the
// collector took them. It runs in the engine, beside the assembly, never on the forwarding
// path: a slow or down collector delays only this loop. While the collector is down nothing is
// held in memory: the spans are built again from the sessions when it answers (decision 72).
import type { SessionDetail, SessionSummary } from '../conversation/types';
import { ExportCursor } from './export-cursor';
import { sessionSpans, type SpanRecord } from './genai-spans';
import { spanBatches } from './span-batches';
import type { OtlpConfig } from './otlp-config';
import type { OtlpSender } from './otlp-sender';

export interface SessionSource {
  summaries(): SessionSummary[];
  detail(id: string): Promise<SessionDetail | undefined>;
  /** Sessions with a model call in progress: nothing after their last call is complete yet. */
  streaming(): ReadonlySet<string>;
  /** False while the store's calls are still being read: the sessions are not whole yet. */
  caughtUp(): boolean;
}

/** How long a finished call may take to reach the assembly (the store's debounce, dissection). */
const SETTLE_MS = 5000;
const TICK_MS = 2000;
/** Catching up after an outage goes this far per request round, oldest first. */
const CATCH_UP_MS = 15 * 60_000;
const RETRY_MAX_MS = 60_000;
/** The cursor file is written after every accepted request, and at least this often while idle. */
const PERSIST_IDLE_EVERY_MS = 60_000;
/** Stopping capture waits at most this long for the collector. */
const STOP_WAIT_MS = 2000;

export type ExportLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export class LiveOtlpExport {
  private readonly cursor: ExportCursor;
  private sentUpTo: number;
  private persistedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private failingSince: number | undefined;
  private heldSpans = 0;
  private readonly cache = new Map<string, { key: string; detail: SessionDetail }>();

  constructor(private readonly source: SessionSource, private readonly sender: OtlpSender, private readonly config: OtlpConfig,
    dataDir: string, private readonly log: ExportLog, now = Date.now()) {
    this.cursor = new ExportCursor(dataDir, config.key);
    this.sentUpTo = this.cursor.sentUpTo(now - SETTLE_MS);
    this.persistedAt = this.sentUpTo;
  }

  start(): void {
    this.log('info', `exporting to ${this.config.tracesUrl} (${this.config.protocol}${this.config.content ? ', with content' : ''}), from ${new Date(this.sentUpTo).toISOString()}`);
    this.schedule(0);
  }

  /** Stops the loop after the round in progress; sends what is complete now, once, if the collector answers. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A last round for what completed since, unless the collector is failing: stopping never waits long for it.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), STOP_WAIT_MS); });
    try {
      const last = async () => {
        await this.running;
        if (this.failures === 0) await this.round();
      };
      if (await Promise.race([last(), late]) === 'late') {
        this.log('warn', `the collector did not answer within ${STOP_WAIT_MS / 1000} s of stopping; what was not sent is sent at the next start`);
      }
    } catch (e) {
      this.log('warn', `OTLP export at stop: ${(e as Error).message}; what was not sent is sent at the next start`);
    } finally {
      clearTimeout(timer);
    }
    await Promise.race([this.sender.shutdown(), new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.round().then(
        () => this.recovered(),
        (e: Error) => this.failed(e),
      ).finally(() => {
        this.running = undefined;
        this.schedule(this.failures > 0 ? Math.min(RETRY_MAX_MS, 1000 * 2 ** (this.failures - 1)) : TICK_MS);
      });
    }, delay);
    this.timer.unref?.();
  }

  /** Sends every span complete in (sentUpTo, the horizon], oldest first, a window at a time. */
  private async round(): Promise<void> {
    if (!this.source.caughtUp()) return;
    const horizon = this.horizon(Date.now());
    while (this.sentUpTo < horizon) {
      const upTo = Math.min(horizon, this.sentUpTo + CATCH_UP_MS);
      const spans = await this.spansIn(this.sentUpTo, upTo);
      for (const batch of spanBatches(spans)) {
        await this.sender.send(batch);
        this.sender.record(batch);
        this.heldSpans += this.failingSince !== undefined ? batch.length : 0;
        this.sentUpTo = batch[batch.length - 1]!.readyAt;
        this.persist(true);
      }
      this.sentUpTo = upTo;
      this.persist(false);
    }
  }

  /** Now less the settling time, and no later than the last call of a session still answering. */
  private horizon(now: number): number {
    let horizon = now - SETTLE_MS;
    const streaming = this.source.streaming();
    if (streaming.size > 0) {
      for (const s of this.source.summaries()) if (streaming.has(s.id)) horizon = Math.min(horizon, s.endedAt);
    }
    return horizon;
  }

  private async spansIn(after: number, upTo: number): Promise<SpanRecord[]> {
    const spans: SpanRecord[] = [];
    const live = new Set<string>();
    for (const summary of this.source.summaries()) {
      // A session's spans are complete by its last call's end plus the agent idle time.
      if (summary.endedAt + this.config.agentIdleMs < after || summary.startedAt > upTo) continue;
      live.add(summary.id);
      const detail = await this.detailOf(summary);
      if (!detail) continue;
      spans.push(...sessionSpans(detail, {
        content: this.config.content, legacyNames: !this.config.latestOnly, after, upTo, idleMs: this.config.agentIdleMs,
        contentLimit: { maxChars: this.config.attributeLimit },
      }));
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return spans.sort((a, b) => a.readyAt - b.readyAt);
  }

  private async detailOf(summary: SessionSummary): Promise<SessionDetail | undefined> {
    const key = `${summary.callCount}/${summary.endedAt}`;
    const cached = this.cache.get(summary.id);
    if (cached?.key === key) return cached.detail;
    const detail = await this.source.detail(summary.id);
    if (detail) this.cache.set(summary.id, { key, detail });
    return detail;
  }

  private persist(sentSpans: boolean): void {
    if (!sentSpans && this.sentUpTo - this.persistedAt < PERSIST_IDLE_EVERY_MS) return;
    this.cursor.advance(this.sentUpTo);
    this.persistedAt = this.sentUpTo;
  }

  private failed(e: Error): void {
    this.failures++;
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.heldSpans = 0;
      this.log('warn', `OTLP export to ${this.config.tracesUrl} failed: ${e.message}. Nothing is lost: the spans are sent when it answers (retrying with backoff up to every ${RETRY_MAX_MS / 1000} s)`);
    }
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    this.log('info', `OTLP export to ${this.config.tracesUrl} works again: sent ${this.heldSpans} spans held since ${new Date(this.failingSince).toISOString()}`);
    this.failures = 0;
    this.failingSince = undefined;
  }
}
