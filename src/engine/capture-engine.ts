// The capture engine: everything the extension shows, run away from the editor's thread. It owns
// the capture (CaptureService: the proxy on a thread of its own, the recorder, the store), the
// read-only store browsed while capture is stopped (the user's or the demo's), and the sessions
// assembled from whichever is shown. The host asks through requests (src/engine/protocol.ts)
// and hears of changes through events; nothing here knows of VS Code.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { activity } from '../app/activity';
import { hasCaptureFiles, clearCaptureFiles } from '../app/capture-files';
import type { CaptureService } from '../app/capture-service';
import { serviceOptions, type OtlpSettingsInput } from '../app/capture-settings';
import { otlpConfigFromSettings, startLiveOtlpExport } from '../app/otlp-export';
import { buildLiveTurn, buildViewModel } from '../app/conversation-view-builder';
import { exportHar, HarImportError, importHarInto, prepareHarImport, writeHarImport } from '../app/har-transfer';
import { writePrivateFile } from '../app/private-file';
import { buildRawCallView } from '../app/raw-call-view';
import { LiveRevisions, ViewRevisions } from '../app/view-model-diff';
import { buildSessionTree } from '../app/session-tree-model';
import { renderMarkdownTranscript, type SessionDetail } from '../conversation';
import { parseSearchText } from '../conversation/session-search';
import { discardSpareProxyThread, prepareProxyThread } from '../proxy/proxy-thread';
import { CaptureStore, reclaimOwnProcessLock, StoreLockedError, type StoreMode } from '../store';
import type { CaptureInfo, EngineEvent, EngineMethods, HarImportOutcome, LogLevel, RawCallAnswer, StartCaptureParams } from './protocol';
import { SessionFollower } from './session-follower';
import { SessionSearchIndex } from './session-search-index';
import type { LiveOtlpExport } from '../telemetry/live-export';

/**
 * While capture is stopped, a proxy thread is kept booted for the next Start (decision 62). After
 * a store is first shown it is booted this long after, so that it does not compete with showing
 * the sessions on a machine with few cores; after a stop, at once.
 */
const SPARE_PROXY_AFTER_MS = 1000;

type Handlers = { [M in keyof EngineMethods]: (params: EngineMethods[M]['params']) => Promise<EngineMethods[M]['result']> | EngineMethods[M]['result'] };

export class CaptureEngine {
  private service: CaptureService | undefined;
  /** The OpenTelemetry export of the capture's sessions, when the settings turn it on. */
  private otlp: LiveOtlpExport | undefined;
  /** While capture is stopped: a read-only store, for browsing what was captured. */
  private reader: CaptureStore | undefined;
  private readerOpening: Promise<void> | undefined;
  /** The user's data directory, once known (a view asked for history, or capture started). */
  private userDir: string | undefined;
  /** A view wants what was captured shown while capture is stopped. */
  private historyWanted = false;
  /** While set: the demo's directory, shown read-only instead of the user's. */
  private demo: string | undefined;
  /** The data directory the sessions shown come from (they carry over when it is opened again). */
  private shownDir: string | undefined;
  private readonly follower: SessionFollower;
  private readonly searchIndex = new SessionSearchIndex();
  /** The model each open page was last given, to send it only what changed (decision 76). */
  private readonly views = new ViewRevisions();
  private readonly previews = new LiveRevisions();
  private spareTimer: NodeJS.Timeout | undefined;
  /** A capture.start is under way (no spare is booted meanwhile). */
  private starting = false;
  readonly handlers: Handlers;

  constructor(private readonly emit: (event: EngineEvent) => void) {
    this.follower = new SessionFollower(emit, (level, m) => this.log(level, m));
    this.handlers = {
      'capture.start': (p) => this.start(p),
      'capture.stop': async () => { await this.stop(); return null; },
      'capture.otlp': async ({ otlp }) => { await this.reconfigureOtlp(otlp); return null; },
      'history.want': async ({ dataDir }) => { await this.wantHistory(dataDir); return null; },
      'history.pause': async () => { await this.pauseHistory(); return null; },
      'data.clear': (p) => this.clear(p.dataDir),
      'demo.run': (p) => this.runDemo(p.dataDir),
      'demo.show': async ({ dir }) => { await this.showDemo(dir ?? undefined); return null; },
      'sessions.tree': async ({ sessionId }) => {
        const detail = await this.session(sessionId);
        if (!detail) return null;
        const streaming = this.follower.sessions?.streaming().has(detail.id) ?? false;
        return [...buildSessionTree(detail, { now: Date.now(), streaming }).nodes.values()];
      },
      'sessions.search': ({ query, filters, limit }) => {
        // Without filters given apart, the query may carry them as words (client:codex …).
        const typed = filters ? { query, filters } : parseSearchText(query);
        return this.searchIndex.search(this.follower.summaries(), typed.query, typed.filters, Math.max(1, Math.min(limit ?? 200, 5000)), (id) => this.session(id));
      },
      'session.markdown': async ({ sessionId }) => { const d = await this.session(sessionId); return d ? renderMarkdownTranscript(d) : null; },
      'session.json': async ({ sessionId }) => { const d = await this.session(sessionId); return d ? `${JSON.stringify(d, null, 2)}\n` : null; },
      'conversation.model': async ({ sessionId }) => { const d = await this.session(sessionId); return d ? buildViewModel(d) : null; },
      'conversation.view': async ({ sessionId, since, head }) => { const d = await this.session(sessionId); return d ? this.views.answer(buildViewModel(d), since, head === true) : null; },
      'conversation.forget': ({ sessionId }) => {
        this.views.forget(sessionId);
        this.previews.forget(sessionId);
        return null;
      },
      'conversation.live': async ({ sessionId, since }) => {
        const live = this.follower.sessions;
        const pending = (live?.pending(live.assembler.currentId(sessionId)) ?? []).filter((c) => c.side === undefined);
        const detail = pending.length > 0 ? await this.session(sessionId) : undefined;
        return this.previews.answer(sessionId, pending.map((c) => buildLiveTurn(c, detail)), since);
      },
      'conversation.raw': ({ sessionId, callId }) => this.rawCall(sessionId, callId),
      'activity.page': ({ limit }) => {
        const store = this.follower.currentStore;
        return store ? activity(store, limit) : null;
      },
      'har.export': (p) => this.exportHar(p.dataDir, p.file),
      'har.import': (p) => this.importHar(p.dataDir, p.file),
      'test.crash': () => {
        setImmediate(() => { throw new Error('crash requested by a test'); });
        return null;
      },
    };
  }

  private log(level: LogLevel, message: string): void {
    this.emit({ type: 'log', level, message });
  }

  private session(id: string): Promise<SessionDetail | undefined> {
    return this.follower.detail(id);
  }

  private async start(p: StartCaptureParams): Promise<CaptureInfo> {
    if (this.service) return this.info(this.service);
    // A spare booted from here on would compete with this start and then sit unused while capturing.
    this.cancelSpare();
    this.starting = true;
    try {
      return await this.startCapture(p);
    } finally {
      this.starting = false;
    }
  }

  private async startCapture(p: StartCaptureParams): Promise<CaptureInfo> {
    await this.readerOpening;
    await this.closeReader();
    // Capturing shows what is captured: starting leaves the demo.
    if (this.demo !== undefined) {
      this.demo = undefined;
      this.shownDir = undefined;
      this.follower.reset();
      this.emit({ type: 'source' });
    }
    const settings = p.port !== undefined ? { ...p.settings, port: p.port } : p.settings;
    if (p.reclaimLock && reclaimOwnProcessLock(join(p.dataDir, 'writer.lock'))) this.log('info', 'took back the writer lock the stopped engine held');
    if (this.shownDir !== p.dataDir) this.follower.prefetch(p.dataDir);
    let service: CaptureService;
    try {
      const { CaptureService } = captureModule();
      service = await CaptureService.start(serviceOptions(settings, {
        dataDir: p.dataDir,
        auth: { token: p.token, required: false },
        log: (level, message) => this.log(level, message),
      }));
    } catch (e) {
      // Another process writes this directory (another window starting capture): the host tells it by the code.
      if (e instanceof StoreLockedError) throw Object.assign(e, { code: 'ELOCKED' });
      throw e;
    }
    this.service = service;
    this.userDir = p.dataDir;
    this.follower.use(service.store, { dataDir: p.dataDir, keep: this.shownDir === p.dataDir, persist: true });
    this.shownDir = p.dataDir;
    this.startOtlp(settings.otlp, p.dataDir);
    return this.info(service);
  }

  private startOtlp(otlp: OtlpSettingsInput, dataDir: string): void {
    if (!otlp.enabled) return;
    try {
      this.otlp = startLiveOtlpExport(this.follower, () => otlpConfigFromSettings(otlp), dataDir, (level, m) => this.log(level, `OpenTelemetry: ${m}`));
    } catch (e) {
      this.log('error', `OpenTelemetry export could not start: ${(e as Error).message}`);
    }
  }

  private async stopOtlp(): Promise<void> {
    const otlp = this.otlp;
    this.otlp = undefined;
    await otlp?.stop();
  }

  /** New export settings while capturing: the export restarts from its cursor; the proxy and its connections are untouched. */
  private async reconfigureOtlp(otlp: OtlpSettingsInput): Promise<void> {
    if (!this.service || this.userDir === undefined) return;
    await this.stopOtlp();
    if (!otlp.enabled) this.log('info', 'OpenTelemetry: export stopped');
    this.startOtlp(otlp, this.userDir);
  }

  private info(service: CaptureService): CaptureInfo {
    const proxy = service.proxy;
    return { url: proxy.url, port: proxy.port, ca: { certPath: proxy.ca.certPath, bundlePath: proxy.ca.bundlePath }, interceptedHosts: [...proxy.interceptedHosts] };
  }

  /** Stops the capture; what was captured stays shown, read-only, if a view wants it. */
  async stop(): Promise<void> {
    const service = this.service;
    if (!service) return;
    this.service = undefined;
    await this.stopOtlp();
    this.follower.detach();
    await service.stop();
    // The sessions stay shown as they were: nothing for the spare to compete with, so at once.
    this.prepareProxySoon(0);
    await this.openReader();
  }

  private async showDemo(dir: string | undefined): Promise<void> {
    await this.pauseHistory();
    const changed = dir !== this.demo;
    this.demo = dir;
    this.shownDir = undefined;
    this.follower.reset();
    if (changed) this.emit({ type: 'source', ...(dir !== undefined ? { demo: dir } : {}) });
    this.historyWanted = true;
    await this.openReader();
  }

  private async wantHistory(dataDir: string): Promise<void> {
    this.userDir = dataDir;
    this.historyWanted = true;
    await this.openReader();
  }

  /** Stops browsing history until it is wanted again (before the files are deleted). */
  private async pauseHistory(): Promise<void> {
    this.historyWanted = false;
    await this.readerOpening;
    await this.closeReader();
  }

  private openReader(): Promise<void> {
    this.readerOpening ??= this.doOpenReader().finally(() => { this.readerOpening = undefined; });
    return this.readerOpening;
  }

  private async doOpenReader(): Promise<void> {
    const dir = this.demo ?? this.userDir;
    if (!this.historyWanted || dir === undefined || this.reader || this.service) return;
    if (!await hasCaptureFiles(dir)) return;
    // The stored sessions are shown from derived/ once the store is open: read them meanwhile.
    if (this.shownDir !== dir) this.follower.prefetch(dir);
    try {
      const reader = await CaptureStore.open({ dataDir: dir, mode: 'reader', log: (level, m) => this.log(level, `store (read-only): ${m}`) });
      if (this.service || !this.historyWanted || dir !== (this.demo ?? this.userDir)) {
        await reader.close();
        return;
      }
      this.reader = reader;
      this.follower.use(reader, { dataDir: dir, keep: this.shownDir === dir, persist: false });
      const first = this.shownDir !== dir;
      this.shownDir = dir;
      if (first) this.prepareProxySoon(SPARE_PROXY_AFTER_MS);
    } catch (e) {
      this.log('warn', `could not open the captured data read-only: ${(e as Error).message}`);
    }
  }

  /** Boots a proxy thread for the next Start after `delay` ms, unless capture starts or runs by then. */
  private prepareProxySoon(delay: number): void {
    this.cancelSpare();
    this.spareTimer = setTimeout(() => {
      this.spareTimer = undefined;
      if (this.service || this.starting) return;
      prepareProxyThread();
      try {
        captureModule();
      } catch {
        // Left to the Start that needs the module to report: thrown from a timer, it would end the thread.
      }
    }, delay);
    this.spareTimer.unref();
  }

  private cancelSpare(): void {
    if (this.spareTimer) clearTimeout(this.spareTimer);
    this.spareTimer = undefined;
  }

  private async closeReader(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (!reader) return;
    if (this.follower.currentStore === reader) this.follower.detach();
    try {
      await reader.close();
    } catch (e) {
      this.log('warn', `closing the read-only store: ${(e as Error).message}`);
    }
  }

  private async clear(dataDir: string): Promise<{ removed: string[] }> {
    if (this.service) throw new Error('stop capture before clearing the captured data');
    await this.pauseHistory();
    const removed = await clearCaptureFiles(dataDir);
    this.shownDir = undefined;
    this.follower.reset();
    await this.wantHistory(dataDir);
    return { removed };
  }

  private async runDemo(dataDir: string): Promise<{ dataDir: string; sessions: number; claudeSessionId: string }> {
    if (this.service) throw new Error('stop capture before running the demo');
    // The previous run's store is deleted and written again: nothing may be reading it.
    await this.pauseHistory();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runDemo } = require('../demo') as typeof import('../demo');
      const result = await runDemo({ dataDir, log: (level, message) => this.log(level, `demo: ${message}`) });
      this.log('info', `demo: captured ${result.sessions.length} sessions into ${result.dataDir}`);
      await this.showDemo(dataDir);
      return { dataDir: result.dataDir, sessions: result.sessions.length, claudeSessionId: result.claudeSessionId };
    } catch (e) {
      this.historyWanted = true;
      await this.openReader();
      throw e;
    }
  }

  /** Only calls of the session are answered: the id comes from the webview. */
  private async rawCall(sessionId: string, callId: string): Promise<RawCallAnswer> {
    const detail = await this.session(sessionId);
    if (!detail?.threads.some((t) => t.turns.some((turn) => turn.llmCallIds.includes(callId)))) {
      return { error: 'This call is not part of the session shown.' };
    }
    const store = this.follower.currentStore;
    if (!store) return { error: 'The store is not open: start capture or show the Sessions view.' };
    try {
      const built = buildRawCallView(store, callId);
      return 'error' in built ? { error: built.error } : { view: built };
    } catch (e) {
      this.log('warn', `raw call ${callId}: ${(e as Error).message}`);
      return { error: `Could not read the call: ${(e as Error).message}` };
    }
  }

  /** The running capture's store, or a store opened for this one job (closed afterwards). */
  private async withStore<T>(dataDir: string, mode: StoreMode, fn: (store: CaptureStore) => Promise<T> | T): Promise<T | null> {
    const running = this.service?.store;
    if (running) return fn(running);
    if (mode === 'reader' && !await hasCaptureFiles(dataDir)) return null;
    const store = await CaptureStore.open({ dataDir, mode, log: (level, m) => this.log(level, `store: ${m}`) });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  private exportHar(dataDir: string, file: string): Promise<{ count: number } | null> {
    return this.withStore(dataDir, 'reader', async (store) => {
      const har = exportHar(store);
      await writePrivateFile(file, `${JSON.stringify(har, null, 2)}\n`);
      return { count: har.log.entries.length };
    });
  }

  private async importHar(dataDir: string, file: string): Promise<HarImportOutcome> {
    const text = await fsp.readFile(file, 'utf8');
    let prepared;
    try {
      // Checked before any store is opened: a file that cannot be imported writes nothing.
      prepared = prepareHarImport(text);
    } catch (e) {
      if (!(e instanceof HarImportError)) throw e;
      return { total: 0, skipped: [...e.skipped], error: e.message };
    }
    const running = this.service?.store;
    const imported = running
      ? await writeHarImport(running, prepared)
      : await importHarInto(dataDir, prepared, (dir) => CaptureStore.open({ dataDir: dir, mode: 'writer', log: (level, m) => this.log(level, `store: ${m}`) }));
    return { imported, total: prepared.total, skipped: [...prepared.skipped] };
  }

  /** Stops everything (the worker is about to end). */
  async dispose(): Promise<void> {
    this.cancelSpare();
    await this.stop();
    await this.pauseHistory();
    this.cancelSpare();
    await discardSpareProxyThread();
    await this.follower.settle();
    this.follower.close();
  }
}

/**
 * The proxy, its CA (node-forge) and the WebSocket relay (ws): evaluated when capture starts, or in
 * the idle time before a Start, not with the engine, which a view showing stored sessions starts
 * (docs/decisions.md, decision 99). require, not import(), as for the OpenTelemetry packages
 * (src/app/otlp-export.ts): the bundle defers the evaluation, and the worker threads that tests run
 * from source have tsx's CommonJS hook only.
 */
function captureModule(): typeof import('../app/capture-service') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../app/capture-service') as typeof import('../app/capture-service');
}

