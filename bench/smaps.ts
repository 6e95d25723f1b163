// Where a process's resident memory lies, from /proc/<pid>/smaps (Linux only), to tell V8's heaps
// from memory the C allocator keeps (docs/decisions.md, decision 81). The categories are heuristics
// on the mappings' shapes:
//  - main arena: `[heap]`, glibc's brk heap (the main thread's malloc);
//  - thread arenas: anonymous mappings that start on a 64 MiB boundary and are at most 64 MiB
//    long, glibc's malloc heaps of the other threads (HEAP_MAX_SIZE on 64-bit);
//  - other anonymous: V8's heap pages, wasm memories, malloc's own mmapped blocks, stacks;
//  - files: the binary, libraries and other mapped files.
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;
const ARENA = 64 * MiB;

export type SmapsSummary = Record<'mainArena' | 'threadArenas' | 'otherAnonymous' | 'files', number>;

/** Of this process, or of the process `pid`. */
export function smapsSummary(pid: number | 'self' = 'self'): SmapsSummary | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const sum: SmapsSummary = { mainArena: 0, threadArenas: 0, otherAnonymous: 0, files: 0 };
  let kind: keyof SmapsSummary = 'files';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const start = Number.parseInt(head[1], 16);
      const size = Number.parseInt(head[2], 16) - start;
      const name = head[3];
      if (name === '[heap]') kind = 'mainArena';
      else if (name.startsWith('/')) kind = 'files';
      else if (name === '' && start % ARENA === 0 && size <= ARENA) kind = 'threadArenas';
      else kind = 'otherAnonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sum[kind] += Number(rss[1]) * 1024;
  }
  return sum;
}

export function formatSmaps(s: SmapsSummary | undefined): string {
  if (!s) return 'smaps: not available';
  const mb = (n: number) => `${(n / MiB).toFixed(0)}`;
  return `main arena ${mb(s.mainArena)}, thread arenas ${mb(s.threadArenas)}, other anonymous ${mb(s.otherAnonymous)}, files ${mb(s.files)} (MB)`;
}
