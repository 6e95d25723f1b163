// Start and stop of the capture, and the terminal variables that go with it (docs/extension.md,
// "Terminals"). The capture itself runs in the engine's worker (src/engine); this keeps its state
// and, if the engine's thread dies, starts capture again on the same port, so the variables
// already in terminals stay valid.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { readSettings, type CaptureSettings } from '../app/capture-settings';
import type { EngineClient } from '../engine/engine-client';
import type { CaptureInfo } from '../engine/protocol';
import { proxyEnvironment } from '../proxy/shell-environment';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

export type CaptureState = 'stopped' | 'starting' | 'running' | 'stopping';

export const SETTINGS_SECTION = 'llmCapture';
/** More engine deaths than this within a minute: stop restarting (an engine that cannot run would spin). */
const MAX_RESTARTS_PER_MINUTE = 5;

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

  constructor(private readonly context: vscode.ExtensionContext, private readonly engine: EngineClient, private readonly log: Logger) {
    super();
    this.register({ dispose: engine.onExit((reason) => void this.engineStopped(reason)) });
  }

  get state(): CaptureState {
    return this._state;
  }

  /** The running capture: its URL, port, CA files and intercepted hosts. */
  get capture(): CaptureInfo | undefined {
    return this._capture;
  }

  get startedAt(): number | undefined {
    return this._startedAt;
  }

  /** The settings the running capture was started with. */
  get settings(): CaptureSettings | undefined {
    return this._settings;
  }

  get dataDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  /** Starts the capture; resolves with an error message, or undefined when it runs. */
  start(): Promise<string | undefined> {
    return this.serialize(async () => {
      if (this._capture) return undefined;
      this.setState('starting');
      const settings = currentSettings();
      try {
        const capture = await this.engine.request('capture.start', { dataDir: this.dataDir, settings, token: this.token });
        this._capture = capture;
        this._settings = settings;
        this._startedAt = Date.now();
        this.applyEnvironment(capture);
        this.log.info(`capture started on ${capture.url}, data in ${this.dataDir}`);
        this.setState('running');
        return undefined;
      } catch (e) {
        const err = e as Error & { code?: string };
        const message = err.code === 'EADDRINUSE' ? `port ${settings.port} is already in use` : err.message;
        this.log.error(`start failed: ${message}`);
        this.setState('stopped');
        return message;
      }
    });
  }

  stop(): Promise<void> {
    return this.serialize(async () => {
      this.context.environmentVariableCollection.clear();
      if (!this._capture) return;
      this.setState('stopping');
      try {
        await this.engine.request('capture.stop', {});
        this.log.info('capture stopped');
      } catch (e) {
        this.log.error(`stopping: ${(e as Error).message}`);
      } finally {
        this._capture = undefined;
        this._startedAt = undefined;
        this.setState('stopped');
      }
    });
  }

  /** The variables for a shell; with a label, the proxy URL carries it as credentials. */
  environment(label?: string): Record<string, string> | undefined {
    const c = this._capture;
    return c && proxyEnvironment(c.port, c.ca, this.token, label);
  }

  /** The engine's thread died (its proxy and sockets with it): capture again on the same port. */
  private async engineStopped(reason: string): Promise<void> {
    const was = this._capture;
    const settings = this._settings;
    if (!was || !settings) return;
    const at = Date.now();
    this.restarts.push(at);
    while (this.restarts.length > 0 && this.restarts[0] < at - 60_000) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS_PER_MINUTE) {
      this.log.error(`the capture engine stopped: ${reason}; it stopped ${this.restarts.length} times within a minute, so capture is stopped (start it again to retry)`);
      this._capture = undefined;
      this.context.environmentVariableCollection.clear();
      this.setState('stopped');
      return;
    }
    await this.serialize(async () => {
      try {
        this._capture = await this.engine.request('capture.start', { dataDir: this.dataDir, settings, token: this.token, port: was.port, reclaimLock: true });
        this.log.error(`the capture engine stopped: ${reason}; restarted capture on 127.0.0.1:${was.port}`);
        this.setState('running');
      } catch (e) {
        this.log.error(`the capture engine stopped: ${reason}; restarting capture on 127.0.0.1:${was.port} failed: ${(e as Error).message}`);
        this._capture = undefined;
        this.context.environmentVariableCollection.clear();
        this.setState('stopped');
      }
    });
  }

  private applyEnvironment(capture: CaptureInfo): void {
    const env = this.context.environmentVariableCollection;
    env.persistent = false;
    env.description = new vscode.MarkdownString(`Sends coding agents through LLM Capture on \`${capture.url}\``);
    env.clear();
    for (const [name, value] of Object.entries(proxyEnvironment(capture.port, capture.ca, this.token))) env.replace(name, value);
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
