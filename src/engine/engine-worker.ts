// The capture engine's thread: a CaptureEngine bound to the port of the thread that started it
// (src/engine/engine-client.ts). Requests are answered in the order their work ends; an error
// in one becomes that request's error message, never the thread's end. An uncaught error ends
// the thread (and with it the proxy's thread and every socket): the client restarts it.
import { parentPort } from 'node:worker_threads';
import { CaptureEngine } from './capture-engine';
import { ENGINE_PROTOCOL, type EngineMethod, type EngineMethods, type FromEngine, type ToEngine } from './protocol';
import { lowerThisThreadPriority } from './thread-priority';
import { FLUSH_CACHE_AFTER_MS, flushCompileCache } from '../proxy/worker-script';

const port = parentPort;
if (!port) throw new Error('engine-worker runs as a worker thread');

const post = (message: FromEngine): void => port.postMessage(message);
const engine = new CaptureEngine((event) => post({ type: 'event', event }));
// Before the proxy's thread is started from here, so that it inherits the lower priority too.
const priorityProblem = lowerThisThreadPriority();

async function answer(id: number, method: EngineMethod, params: unknown): Promise<void> {
  const handler = engine.handlers[method] as ((p: unknown) => Promise<EngineMethods[EngineMethod]['result']> | EngineMethods[EngineMethod]['result']) | undefined;
  if (!handler) {
    post({ type: 'response', id, ok: false, error: { message: `the engine has no method "${String(method)}"` } });
    return;
  }
  try {
    const result = await handler(params);
    post({ type: 'response', id, ok: true, result });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    post({ type: 'response', id, ok: false, error: { message: err.message, ...(typeof err.code === 'string' ? { code: err.code } : {}) } });
  }
}

port.on('message', (message: ToEngine) => {
  if (message.type === 'request') void answer(message.id, message.method, message.params);
  else if (message.type === 'shutdown') void engine.dispose().finally(() => post({ type: 'closed' }));
});

post({ type: 'ready', protocol: ENGINE_PROTOCOL });
// After the first requests, so that the functions they compiled are cached too.
setTimeout(flushCompileCache, FLUSH_CACHE_AFTER_MS).unref();
if (priorityProblem) post({ type: 'event', event: { type: 'log', level: 'warn', message: `the engine runs at normal priority: ${priorityProblem}` } });
