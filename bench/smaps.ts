// Where a process's resident memory lies, from /proc/self/smaps (Linux only), to tell V8's heap
// from memory the C allocator keeps. The categories are heuristics on the mappings' shapes:
//  - main arena: `[heap]`, glibc's brk heap (the main thread's malloc);
//  - thread arenas: anonymous mappings that start on a 64 MiB boundary and are at most 64 MiB
//    long, glibc's per-thread malloc heaps (HEAP_MAX_SIZE on 64-bit);
//  - reservations: anonymous mappings of 1 GiB or more (V8's code range, wasm memories);
//  - stacks: `[stack]` and thread stacks (8 MiB mappings);
//  - other anonymous: V8's heap pages and large objects, malloc's own mmapped chunks;
//  - files: the binary, libraries and other mapped files.
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;
const ARENA = 64 * MiB;

export type SmapsSummary = Record<'mainArena' | 'threadArenas' | 'reservations' | 'stacks' | 'otherAnonymous' | 'files', number>;

export function smapsSummary(): SmapsSummary | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  const sum: SmapsSummary = { mainArena: 0, threadArenas: 0, reservations: 0, stacks: 0, otherAnonymous: 0, files: 0 };
  let kind: keyof SmapsSummary = 'files';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const start = Number.parseInt(head[1], 16);
      const size = Number.parseInt(head[2], 16) - start;
      const name = head[3];
      if (name === '[heap]') kind = 'mainArena';
      else if (name === '[stack]') kind = 'stacks';
      else if (name.startsWith('/') || name.startsWith('[v')) kind = 'files';
      else if (size >= 1024 * MiB) kind = 'reservations';
      else if (start % ARENA === 0 && size <= ARENA) kind = 'threadArenas';
      else if (size === 8 * MiB || size === 8 * MiB + 4096) kind = 'stacks';
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
  return `main arena ${mb(s.mainArena)}, thread arenas ${mb(s.threadArenas)}, reservations ${mb(s.reservations)}, stacks ${mb(s.stacks)}, other anonymous ${mb(s.otherAnonymous)}, files ${mb(s.files)} (MB)`;
}
