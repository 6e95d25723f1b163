// Start and stop of the capture, and the terminal variables that go with it (docs/extension.md,
// "Terminals"). Everything slow (the CA key, opening the store) is asynchronous.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { CaptureService } from '../app/capture-service';
import { readSettings, serviceOptions, type CaptureSettings } from '../app/capture-settings';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

export type CaptureState = 'stopped' | 'starting' | 'running' | 'stopping';

export const SETTINGS_SECTION = 'llmCapture';

export function currentSettings(): CaptureSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return readSettings((key) => config.get(key));
}

export class CaptureController extends Disposable {
  private _state: CaptureState = 'stopped';
  private _service: CaptureService | undefined;
  private _startedAt: number | undefined;
  private _settings: CaptureSettings | undefined;
  /** The password of terminal credentials (labels tag connections); new each window. */
  private readonly token = randomBytes(16).toString('hex');
  private readonly changed = this.register(new vscode.EventEmitter<CaptureState>());
  readonly onDidChangeState = this.changed.event;
  private transition: Promise<unknown> = Promise.resolve();

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: Logger) {
    super();
  }

  get state(): CaptureState {
    return this._state;
  }

  get service(): CaptureService | undefined {
    return this._service;
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
      if (this._service) return undefined;
      this.setState('starting');
      const settings = currentSettings();
      try {
        const service = await CaptureService.start(serviceOptions(settings, {
          dataDir: this.dataDir,
          auth: { token: this.token, required: false },
          log: (level, message) => this.log.log(level, message),
        }));
        this._service = service;
        this._settings = settings;
        this._startedAt = Date.now();
        this.applyEnvironment(service);
        this.log.info(`capture started on ${service.proxy.url}, data in ${this.dataDir}`);
        this.setState('running');
        return undefined;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const message = err.code === 'EADDRINUSE' ? `port ${settings.port} is already in use` : err.message;
        this.log.error(`start failed: ${message}`);
        this.setState('stopped');
        return message;
      }
    });
  }

  stop(): Promise<void> {
    return this.serialize(async () => {
      const service = this._service;
      this.context.environmentVariableCollection.clear();
      if (!service) return;
      this.setState('stopping');
      try {
        await service.stop();
        this.log.info('capture stopped');
      } catch (e) {
        this.log.error(`stopping: ${(e as Error).message}`);
      } finally {
        this._service = undefined;
        this._startedAt = undefined;
        this.setState('stopped');
      }
    });
  }

  /** The variables for a shell; with a label, the proxy URL carries it as credentials. */
  environment(label?: string): Record<string, string> | undefined {
    return this._service?.proxy.environment(label);
  }

  private applyEnvironment(service: CaptureService): void {
    const env = this.context.environmentVariableCollection;
    env.persistent = false;
    env.description = new vscode.MarkdownString(`Sends coding agents through LLM Capture on \`${service.proxy.url}\``);
    env.clear();
    for (const [name, value] of Object.entries(service.proxy.environment())) env.replace(name, value);
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
