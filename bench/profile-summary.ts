// Summarizes V8 .cpuprofile files (from `BENCH_PROFILE=1 npm run bench`) as text: where the
// proxy's CPU went, by function, self and inclusive. A sampled profile shows CPU, not waiting:
// "(idle)" is the event loop blocked in epoll, and native writes (writev, writeBuffer,
// writeLatin1String) include the TLS encryption and the write system call beneath them.
//
// Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile… [--top=30] [--skip-ms=3000]
//   --skip-ms leaves out the first milliseconds of each profile (process start-up, module loading).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
};
const top = option('top', 30);
const skipUs = option('skip-ms', 0) * 1000;
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: profile-summary.ts FILE.cpuprofile… [--top=30] [--skip-ms=0]');
  process.exit(2);
}

/** "function file:line", with paths shortened to the part a reader recognizes. */
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^node:/, '');
  return `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let idle = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let clock = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    clock += dt;
    if (clock < skipUs) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    total += dt;
    if (node.callFrame.functionName === '(idle)') idle += dt;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    // Count each function once per sample, however deep its recursion.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id) as ProfileNode);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      seen.add(l);
    }
  }
}

const busy = total - idle;
const ms = (us: number): string => (us / 1000).toFixed(1).padStart(9);
function show(title: string, table: Map<string, number>): void {
  console.log(`\n${title} (ms, % of busy time)`);
  const rows = [...table].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`${ms(v)}  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
}
console.log(`${files.length} profile(s): ${ms(total).trim()} ms sampled, ${ms(busy).trim()} ms busy, ${ms(idle).trim()} ms idle`);
show('Self time', self);
show('Inclusive time', inclusive);
