// How our worker threads are started: from the bundle beside the code that starts them (dist/),
// through Node's compile cache when there is one, or from the TypeScript source through tsx when
// the tests run the sources. A thread compiles its whole bundle before it can answer (the
// engine's is 1.4 MB: ~25 ms of its ~150 ms start on this project's machine); with the cache,
// V8 reads the compiled code back instead (docs/decisions.md, decision 52).
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { basename, dirname, join } from 'node:path';

export interface WorkerScript {
  code: string;
  eval: boolean;
}

/**
 * `compileCacheDir`: where the cache is (the caller's own directory, never a shared temporary one:
 * a cache another user could write would be code run as this one). By default, the cache this
 * thread uses, if any, so that a thread started from a cached thread is cached too.
 */
export function workerScript(dir: string, baseName: string, compileCacheDir = currentCompileCacheDir()): WorkerScript {
  const bundled = join(dir, `${baseName}.js`);
  if (existsSync(bundled)) {
    if (compileCacheDir === undefined) return { code: bundled, eval: false };
    // The cache must be on before the bundle is compiled, so the thread starts with these two lines.
    return {
      code: `try { require('node:module').enableCompileCache?.(${JSON.stringify(compileCacheDir)}); } catch {}\nrequire(${JSON.stringify(bundled)});`,
      eval: true,
    };
  }
  const source = join(dir, `${baseName}.ts`);
  // tsx's hooks do not reach worker threads; the worker registers them itself.
  const tsx = require.resolve('tsx/cjs', { paths: [dir] });
  return { code: `require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, eval: true };
}

/** A thread flushes its cache this long after it is ready, once its first requests have compiled what they use. */
export const FLUSH_CACHE_AFTER_MS = 3000;

/** Writes what this thread has compiled so far to its cache (Node writes it only at exit otherwise, and a killed host never exits). */
export function flushCompileCache(): void {
  try {
    (nodeModule as { flushCompileCache?: () => void }).flushCompileCache?.();
  } catch {
    // A cache that cannot be written only means the next start compiles again.
  }
}

/** The directory this thread's cache was enabled with (Node reports the per-version directory inside it). */
function currentCompileCacheDir(): string | undefined {
  let dir: string | undefined;
  try {
    dir = (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  } catch {
    return undefined;
  }
  return dir !== undefined && basename(dir).startsWith(`${process.version}-`) ? dirname(dir) : dir;
}
