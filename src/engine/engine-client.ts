// The host's side of the capture engine: starts the engine's worker thread when it is first
// needed (activation loads none of the engine's code), speaks src/engine/protocol.ts to it, and
// tells its owner when the worker ends unasked (an uncaught error in it), so that capture can
// start again on the same port. Imports nothing of the engine but the protocol's types.
import type { Worker } from 'node:worker_threads';
import { workerScript } from '../proxy/worker-script';
import {
  ENGINE_PROTOCOL, type EngineEvent, type EngineMethod, type EngineMethods, type FromEngine, type ToEngine,
} from './protocol';

/** How long a shutdown may take (a final snapshot) before the thread is terminated. */
const SHUTDOWN_MS = 10_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The engine thread's young generation, in MB: Node 22's default (two 16 MB semi-spaces and a large
 * object space as big). Left to V8, Node 24 (VS Code's) lets it grow to 128 MB of new space on a
 * large machine, and the pages it commits stay resident (docs/decisions.md, decision 95). Smaller
 * saved no more memory and, on Node 22, promoted more of the bodies it handles.
 */
const YOUNG_GENERATION_MB = 48;

export class EngineError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export interface EngineClientOptions {
  /** Where the engine's threads keep Node's compile cache (the extension's own storage); none if absent. */
  compileCacheDir?: string;
}

export class EngineClient {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: EngineEvent) => void>();
  private readonly exitListeners = new Set<(reason: string) => void>();
  private disposed = false;

  constructor(private readonly options: EngineClientOptions = {}) {}

  /** True once the worker runs (it starts on the first request). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** The worker ended unasked: every request in flight has failed, and the next one starts a new worker. */
  onExit(listener: (reason: string) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  async request<M extends EngineMethod>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    if (this.disposed) throw new EngineError('the capture engine has been shut down');
    const worker = await this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ type: 'request', id, method, params } satisfies ToEngine);
    });
  }

  private ensureWorker(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.launch().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private launch(): Promise<Worker> {
    return new Promise((resolve, reject) => {
      const script = workerScript(__dirname, 'engine-worker', this.options.compileCacheDir);
      // trackUnmanagedFds (Node's default, said here because a crash relies on it): the files the
      // thread opened (journal, segments, the unlinked spill file) close when it dies, so their space is freed.
      // node:worker_threads is loaded here, not at activation: the extension host has not loaded
      // it, and loading it was an eighth of the time extension.js took to load (0.45 of 3.6 ms).
      const { Worker } = process.getBuiltinModule('node:worker_threads');
      const w = new Worker(script.code, {
        eval: script.eval, name: 'llm-capture engine', trackUnmanagedFds: true, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
      let ready = false;
      let lastError: Error | undefined;
      w.on('message', (message: FromEngine) => {
        switch (message.type) {
          case 'ready':
            if (message.protocol !== ENGINE_PROTOCOL) {
              void w.terminate();
              return reject(new EngineError(`the capture engine speaks protocol ${message.protocol}, this extension ${ENGINE_PROTOCOL}`));
            }
            ready = true;
            this.worker = w;
            return resolve(w);
          case 'response': {
            const p = this.pending.get(message.id);
            if (!p) return;
            this.pending.delete(message.id);
            if (message.ok) p.resolve(message.result);
            else p.reject(new EngineError(message.error.message, message.error.code));
            return;
          }
          case 'event':
            for (const l of this.eventListeners) l(message.event);
            return;
          case 'closed':
            return;
        }
      });
      w.on('error', (e) => { lastError = e; });
      w.on('exit', (code) => {
        if (!ready) return reject(lastError ?? new EngineError(`the capture engine exited (code ${code}) before it was ready`));
        if (this.worker !== w) return;
        this.worker = undefined;
        const reason = lastError?.message ?? `exit code ${code}`;
        for (const p of this.pending.values()) p.reject(new EngineError(`the capture engine stopped: ${reason}`));
        this.pending.clear();
        if (!this.disposed) for (const l of this.exitListeners) l(reason);
      });
    });
  }

  /** Asks the engine to stop capture and close its stores, then ends the thread. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (!w) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate(), SHUTDOWN_MS);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      w.on('message', (m: FromEngine) => {
        if (m.type === 'closed') void w.terminate();
      });
      w.postMessage({ type: 'shutdown' } satisfies ToEngine);
    });
  }
}
