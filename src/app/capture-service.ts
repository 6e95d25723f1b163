// One capture: the proxy, the recorder that decodes its tap, and the store the recorder writes to.
// Both composition roots (the CLI and the extension) start captures through this.
import { CaptureRecorder, type CaptureRecorderOptions } from '../capture';
import { startProxy, startProxyThread, Tap, type ProxyOptions, type RunningProxy } from '../proxy';
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
    // The store first: a data directory another process writes to must stop us before we listen.
    const store = await CaptureStore.open({ dataDir: options.dataDir, mode: 'writer', retention: options.retention, log: (level, m) => log(level, `store: ${m}`) });
    try {
      const recorder = new CaptureRecorder(store, { ...options.capture, onError: (m) => log('warn', `capture: ${m}`) });
      const tap = new Tap({ onListenerError: (e) => log('error', `tap listener: ${(e as Error).message}`) });
      tap.subscribe(recorder.handle);
      // The proxy forwards on a thread of its own; this one decodes and stores (docs/decisions.md, decision 38).
      const proxy = options.proxyOnThisThread ? await startProxy({ ...options, tap }) : await startProxyThread({ ...options, tap });
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
