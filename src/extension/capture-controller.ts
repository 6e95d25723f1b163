// Start and stop of the capture, and the terminal variables that go with it (docs/extension.md,
// "Terminals"). The capture itself runs in the engine's worker (src/engine); this keeps its state
// and, if the engine's thread dies, starts capture again on the same port, so the variables
// already in terminals stay valid. Several windows share one capture (docs/decisions.md,
// decision 42): the first to start serves it and leaves a note in the data directory; the others
// attach (same variables, the sessions followed read-only) and take over on the same port when
// the serving window closes.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { readSettings, type CaptureSettings } from '../app/capture-settings';
import type { EngineClient } from '../engine/engine-client';
import type { CaptureInfo } from '../engine/protocol';
import { readNote, readNoteFile, removeNote, sharingStep, writeNote, type ServingNote } from '../app/serving-note';
import { proxyEnvironment } from '../proxy/shell-environment';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

export type CaptureState = 'stopped' | 'starting' | 'running' | 'stopping';

export const SETTINGS_SECTION = 'llmCapture';
/** More engine deaths than this within a minute: stop restarting (an engine that cannot run would spin). */
const MAX_RESTARTS_PER_MINUTE = 5;
/** How often a window looks at the note of the window serving capture. */
const WATCH_MS = 1000;
/** How long Start waits for a window that is starting capture at the same moment to say where. */
const NOTE_WAIT_MS = 5000;

/** Serving: this window's engine runs the proxy. Attached: another window's does; this one uses it. */
export type CaptureRole = 'serving' | 'attached';

export function currentSettings(): CaptureSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return readSettings((key) => config.get(key));
}

export class CaptureController extends Disposable {
  private _state: CaptureState = 'stopped';
  private _capture: CaptureInfo | undefined;
  private _startedAt: number | undefined;
  private _settings: CaptureSettings | undefined;
  /** The password of terminal credentials (labels tag connections); new each window. */
  private readonly token = randomBytes(16).toString('hex');
  private readonly changed = this.register(new vscode.EventEmitter<CaptureState>());
  readonly onDidChangeState = this.changed.event;
  private transition: Promise<unknown> = Promise.resolve();
  private readonly restarts: number[] = [];
  private _role: CaptureRole | undefined;
  /** While attached: the note of the window that serves. */
  private _servedBy: ServingNote | undefined;
  /** The startedAt of a shared capture this window stopped itself out of: not attached to again. */
  private declined: string | undefined;
  private looking = false;

  constructor(private readonly context: vscode.ExtensionContext, private readonly engine: EngineClient, private readonly log: Logger) {
    super();
    this.register({ dispose: engine.onExit((reason) => void this.engineStopped(reason)) });
    // Every window watches the note: to attach when another window starts capture, to take over
    // when the serving window closes, and to stop when capture is stopped in any window.
    const watch = setInterval(() => void this.lookAtNote(), WATCH_MS);
    this.register({ dispose: () => clearInterval(watch) });
  }

  get state(): CaptureState {
    return this._state;
  }

  /** The running capture: its URL, port, CA files and intercepted hosts. */
  get capture(): CaptureInfo | undefined {
    return this._capture;
  }

  /** Whether this window serves the capture or uses another window's; undefined while stopped. */
  get role(): CaptureRole | undefined {
    return this._role;
  }

  /** While attached: the serving process (its pid and window name). */
  get servedBy(): ServingNote | undefined {
    return this._servedBy;
  }

  get startedAt(): number | undefined {
    return this._startedAt;
  }

  /** The settings the running capture was started with. */
  get settings(): CaptureSettings | undefined {
    return this._settings;
  }

  /** Applies new OpenTelemetry export settings to the capture this window serves, without restarting it. */
  async applyOtlp(settings: CaptureSettings): Promise<void> {
    if (this._role !== 'serving' || !this._settings) return;
    this._settings = { ...this._settings, otlp: settings.otlp };
    await this.engine.request('capture.otlp', { otlp: settings.otlp });
  }

  get dataDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  /**
   * Starts the capture, or attaches to the one another window serves on this data directory.
   * Resolves with an error message, or undefined when it runs.
   */
  start(): Promise<string | undefined> {
    return this.serialize(async () => {
      if (this._capture) return undefined;
      this.setState('starting');
      const settings = currentSettings();
      const waitUntil = Date.now() + NOTE_WAIT_MS;
      for (;;) {
        const note = readNote(this.dataDir);
        if (note && note.pid !== process.pid) {
          if (note.server !== 'vscode') return this.failStart(`llm-capture proxy (pid ${note.pid}) captures into this data directory on ${note.proxyUrl}; stop it first`);
          this.attach(note, settings);
          return undefined;
        }
        try {
          await this.serve(settings);
          return undefined;
        } catch (e) {
          const err = e as Error & { code?: string };
          // Another window is starting capture at this moment: attach once its note says where.
          if (err.code === 'ELOCKED' && Date.now() < waitUntil) {
            await new Promise((r) => setTimeout(r, 250));
            continue;
          }
          return this.failStart(err.code === 'EADDRINUSE' ? `port ${settings.port} is already in use` : err.message);
        }
      }
    });
  }

  private failStart(message: string): string {
    this.log.error(`start failed: ${message}`);
    this.setState('stopped');
    return message;
  }

  /** Starts the proxy in this window's engine, and says so in the note other windows read. */
  private async serve(settings: CaptureSettings, port?: number): Promise<void> {
    const capture = await this.engine.request('capture.start', { dataDir: this.dataDir, settings, token: this.token, ...(port !== undefined ? { port } : {}) });
    this._capture = capture;
    this._settings = settings;
    this._role = 'serving';
    this._servedBy = undefined;
    this._startedAt = Date.now();
    this.writeServingNote(capture);
    this.applyEnvironment(capture, this.token);
    this.log.info(`capture started on ${capture.url}, data in ${this.dataDir}`);
    this.setState('running');
  }

  /** Uses the capture another window serves: the same variables, and its sessions followed read-only. */
  private attach(note: ServingNote, settings: CaptureSettings): void {
    const capture: CaptureInfo = {
      url: `http://127.0.0.1:${note.port}`, port: note.port,
      ca: { certPath: note.caCertPath ?? '', bundlePath: note.caBundlePath ?? '' },
      interceptedHosts: note.interceptedHosts ?? [],
    };
    const first = this._role !== 'attached';
    this._capture = capture;
    this._settings = settings;
    this._role = 'attached';
    this._servedBy = note;
    this._startedAt ??= Date.now();
    this.applyEnvironment(capture, note.token ?? this.token);
    if (first) this.log.info(`capture is served by another window (${note.window ?? '?'}, pid ${note.pid}) on ${capture.url}; this window uses it`);
    else this.log.info(`capture is now served by the window ${note.window ?? '?'} (pid ${note.pid}) on ${capture.url}`);
    this.setState('running');
  }

  /** Reads the note and does what it calls for (src/app/serving-note.ts, sharingStep). */
  private async lookAtNote(): Promise<void> {
    if (this.looking || this._state === 'starting' || this._state === 'stopping') return;
    this.looking = true;
    try {
      const note = readNoteFile(this.dataDir);
      const step = sharingStep({ role: this._role, servedByPid: this._servedBy?.pid, declined: this.declined, pid: process.pid }, note);
      switch (step.kind) {
        case 'attach':
          await this.serialize(async () => {
            if (this._role === 'serving' || this._state === 'starting') return;
            this.attach(step.note, this._settings ?? currentSettings());
          });
          return;
        case 'stop':
          this.log.info(this._role === 'serving' ? 'capture was stopped in another window' : `capture was stopped in the window that served it (pid ${this._servedBy?.pid ?? '?'})`);
          await this.stop();
          return;
        case 'take-over':
          await this.takeOver();
          return;
      }
    } finally {
      this.looking = false;
    }
  }

  /** The serving window is gone: serve on the same port, so the variables in terminals stay valid. */
  private takeOver(): Promise<void> {
    return this.serialize(async () => {
      const was = this._servedBy;
      const capture = this._capture;
      if (this._role !== 'attached' || !capture) return;
      try {
        await this.serve(this._settings ?? currentSettings(), capture.port);
        this.log.info(`the window that served capture (pid ${was?.pid ?? '?'}) is gone; this window serves it now on 127.0.0.1:${capture.port}`);
      } catch (e) {
        // Another window won the race (the writer lock or the port): its note says so on the next look.
        this.log.debug(`taking over capture: ${(e as Error).message}`);
      }
    });
  }

  private writeServingNote(capture: CaptureInfo, stopped = false): void {
    try {
      writeNote(this.dataDir, {
        pid: process.pid, port: capture.port, proxyUrl: capture.url, startedAt: new Date(this._startedAt ?? Date.now()).toISOString(),
        server: 'vscode', window: vscode.workspace.name ?? 'a window without a folder', caCertPath: capture.ca.certPath, caBundlePath: capture.ca.bundlePath,
        token: this.token, interceptedHosts: capture.interceptedHosts, ...(stopped ? { stoppedAt: new Date().toISOString() } : {}),
      });
    } catch (e) {
      this.log.warn(`could not leave the note other windows read: ${(e as Error).message}`);
    }
  }

  /**
   * Stops the capture. `closing`: the window is closing, and an attached window should take over
   * (the note goes); otherwise the user stopped it, and attached windows stop too (the note says so).
   */
  stop(closing = false): Promise<void> {
    return this.serialize(async () => {
      this.context.environmentVariableCollection.clear();
      const capture = this._capture;
      if (!capture) return;
      const role = this._role;
      this.setState('stopping');
      try {
        if (role === 'serving') {
          await this.engine.request('capture.stop', {});
          if (closing) removeNote(this.dataDir, process.pid);
          else this.writeServingNote(capture, true);
          this.log.info('capture stopped');
        } else if (!closing) {
          // One capture for all windows: ask the serving window to stop it, and stay out of it here.
          this.declined = this._servedBy?.startedAt;
          const note = readNoteFile(this.dataDir);
          if (note && note.pid === this._servedBy?.pid && note.stoppedAt === undefined) writeNote(this.dataDir, { ...note, stopRequestedAt: new Date().toISOString() });
          this.log.info(`asked the window that serves capture (pid ${this._servedBy?.pid ?? '?'}) to stop it`);
        }
      } catch (e) {
        this.log.error(`stopping: ${(e as Error).message}`);
      } finally {
        this._capture = undefined;
        this._startedAt = undefined;
        this._role = undefined;
        this._servedBy = undefined;
        this.setState('stopped');
      }
    });
  }

  /** The variables for a shell; with a label, the proxy URL carries it as credentials. */
  environment(label?: string): Record<string, string> | undefined {
    const c = this._capture;
    return c && proxyEnvironment(c.port, c.ca, this._servedBy?.token ?? this.token, label);
  }

  /** The engine's thread died (its proxy and sockets with it): capture again on the same port. */
  private async engineStopped(reason: string): Promise<void> {
    const was = this._capture;
    const settings = this._settings;
    if (!was || !settings || this._role !== 'serving') return;
    const at = Date.now();
    this.restarts.push(at);
    while (this.restarts.length > 0 && this.restarts[0] < at - 60_000) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS_PER_MINUTE) {
      this.log.error(`the capture engine stopped: ${reason}; it stopped ${this.restarts.length} times within a minute, so capture is stopped (start it again to retry)`);
      this._capture = undefined;
      this._role = undefined;
      removeNote(this.dataDir, process.pid);
      this.context.environmentVariableCollection.clear();
      this.setState('stopped');
      return;
    }
    await this.serialize(async () => {
      try {
        this._capture = await this.engine.request('capture.start', { dataDir: this.dataDir, settings, token: this.token, port: was.port, reclaimLock: true });
        this.writeServingNote(this._capture);
        this.log.error(`the capture engine stopped: ${reason}; restarted capture on 127.0.0.1:${was.port}`);
        this.setState('running');
      } catch (e) {
        this.log.error(`the capture engine stopped: ${reason}; restarting capture on 127.0.0.1:${was.port} failed: ${(e as Error).message}`);
        this._capture = undefined;
        this._role = undefined;
        removeNote(this.dataDir, process.pid);
        this.context.environmentVariableCollection.clear();
        this.setState('stopped');
      }
    });
  }

  private applyEnvironment(capture: CaptureInfo, token: string): void {
    const env = this.context.environmentVariableCollection;
    env.persistent = false;
    env.description = new vscode.MarkdownString(`Sends coding agents through LLM Capture on \`${capture.url}\``);
    env.clear();
    for (const [name, value] of Object.entries(proxyEnvironment(capture.port, capture.ca, token))) env.replace(name, value);
  }

  private setState(state: CaptureState): void {
    this._state = state;
    this.changed.fire(state);
  }

  /** Start and stop run one at a time, in the order they were asked for. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.transition.then(fn, fn);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
