// One capture: the proxy, the recorder that decodes its tap, and the store the recorder writes to.
// Both composition roots (the CLI and the extension) start captures through this.
import { CaptureRecorder, type CaptureRecorderOptions } from '../capture';
import { now, startProxy, startProxyThread, Tap, type ProxyOptions, type RunningProxy } from '../proxy';
import { CaptureStore, type RetentionSettings } from '../store';

export interface CaptureServiceOptions extends Omit<ProxyOptions, 'tap'> {
  retention?: RetentionSettings;
  capture?: Omit<CaptureRecorderOptions, 'onError'>;
  /** Run the proxy on the calling thread instead of a worker of its own (benchmarks that compare the two). */
  proxyOnThisThread?: boolean;
}

export class CaptureService {
  private constructor(
    readonly proxy: RunningProxy,
    readonly store: CaptureStore,
    private readonly recorder: CaptureRecorder,
  ) {}

  static async start(options: CaptureServiceOptions): Promise<CaptureService> {
    const log = options.log ?? (() => undefined);
    const tap = new Tap({ onListenerError: (e) => log('error', `tap listener: ${(e as Error).message}`) });
    // The store before listening: a data directory another process writes to must stop us first. The
    // proxy's thread boots meanwhile and listens once the store is open (docs/decisions.md, decision 44).
    const opening = CaptureStore.open({ dataDir: options.dataDir, mode: 'writer', retention: options.retention, log: (level, m) => log(level, `store: ${m}`) });
    const proxyStarting = options.proxyOnThisThread ? startProxy({ ...options, tap }, opening) : startProxyThread({ ...options, tap }, opening);
    // It may fail (a bad CA file) while the store is still opening: the failure is thrown below, not unhandled meanwhile.
    proxyStarting.catch(() => undefined);
    let store: CaptureStore;
    try {
      store = await opening;
    } catch (e) {
      await proxyStarting.catch(() => undefined);
      throw e;
    }
    // Subscribed before the proxy can have sent anything: its events arrive as messages, later.
    const recorder = new CaptureRecorder(store, { ...options.capture, onError: (m) => log('warn', `capture: ${m}`) });
    tap.subscribe(recorder.handle);
    // How far behind the traffic capture runs: while behind, the store defers compression (docs/decisions.md, decision 47).
    tap.subscribe((event) => store.noteCaptureLag(now() - event.time));
    try {
      const proxy = await proxyStarting;
      return new CaptureService(proxy, store, recorder);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** Stops listening, lets the recorder finish what it has, and closes the store (a final snapshot). */
  async stop(): Promise<void> {
    await this.proxy.close();
    await this.recorder.flush();
    await this.store.close();
  }
}
