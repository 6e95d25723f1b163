// Opening the capture store from a one-shot command: a reader beside a running proxy, or the
// writer when the command changes data (import).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureStore, type StoreMode } from '../store';
import { defaultDataDir } from './data-dir';

export function resolveDataDir(value: string | undefined): string {
  return value ?? defaultDataDir();
}

export async function openStore(dataDir: string, mode: StoreMode): Promise<CaptureStore> {
  if (mode === 'reader' && !existsSync(join(dataDir, 'capture.sqlite')) && !existsSync(join(dataDir, 'capture.journal'))) {
    throw new Error(`nothing has been captured in ${dataDir} yet (start "llm-capture proxy --data-dir ${dataDir}")`);
  }
  return CaptureStore.open({
    dataDir,
    mode,
    log: (level, message) => {
      if (level !== 'info') process.stderr.write(`[${level}] ${message}\n`);
    },
  });
}

/** Runs `fn` with a store that is closed afterwards, whatever happens. */
export async function withStore<T>(dataDir: string, mode: StoreMode, fn: (store: CaptureStore) => Promise<T> | T): Promise<T> {
  const store = await openStore(dataDir, mode);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
