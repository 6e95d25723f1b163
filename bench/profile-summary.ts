// Summarizes V8 .cpuprofile files (from `BENCH_PROFILE=1 npm run bench`) as text: where the
// proxy's CPU went, by function, self and inclusive. A sampled profile shows CPU, not waiting:
// "(idle)" is the event loop blocked in epoll, and native writes (writev, writeBuffer,
// writeLatin1String) include the TLS encryption and the write system call beneath them.
//
// Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile… [--top=30] [--skip-ms=3000] [--long-tasks=MS]
//   --skip-ms leaves out the first milliseconds of each profile (process start-up, module loading).
//   --long-tasks lists every run of busy samples of MS or more (a stall of the event loop) with who
//   ran in it: an extension (by its folder under extensions/), VS Code's port scan, the garbage
//   collector, VS Code, or Node; and sums the time by owner over all samples.
// A .heapprofile (a sampled allocation profile, as bench/host-probe writes beside its .cpuprofile)
// is summarized as the bytes allocated, by owner and by function.
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
const longTaskUs = option('long-tasks', 0) * 1000;
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

/** Who a sample's time belongs to: the extension nearest the leaf, else the named parts of VS Code or Node. */
function owner(stack: ProfileNode[]): string {
  for (const n of stack) {
    const m = /\/extensions\/([^/]+)\//.exec(n.callFrame.url);
    if (m) return `extension ${m[1]}`;
  }
  const leaf = stack[0]?.callFrame.functionName ?? '';
  if (leaf === '(garbage collector)' || leaf === '(program)' || leaf === '(idle)') return leaf;
  if (stack.some((n) => n.callFrame.functionName === 'findCandidatePorts')) return 'VS Code: port forwarding scan (findCandidatePorts)';
  if (stack.some((n) => n.callFrame.url.includes('/vscode/out/'))) return 'VS Code';
  return 'Node';
}

interface Task { startUs: number; us: number; owners: Map<string, number> }
const tasks: Task[] = [];
const owners = new Map<string, number>();

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let idle = 0;
interface HeapNode { callFrame: ProfileNode['callFrame']; selfSize: number; children: HeapNode[] }
const allocatedBy = new Map<string, number>();
const allocatedIn = new Map<string, number>();
let allocated = 0;
function walkHeap(node: HeapNode, stack: ProfileNode[]): void {
  const here = [{ id: 0, callFrame: node.callFrame }, ...stack];
  if (node.selfSize > 0) {
    allocated += node.selfSize;
    const who = owner(here);
    allocatedBy.set(who, (allocatedBy.get(who) ?? 0) + node.selfSize);
    const l = label(here[0]!);
    allocatedIn.set(l, (allocatedIn.get(l) ?? 0) + node.selfSize);
  }
  for (const c of node.children) walkHeap(c, here);
}
for (const file of files.filter((f) => f.endsWith('.heapprofile'))) walkHeap((JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head, []);

const cpuFiles = files.filter((f) => !f.endsWith('.heapprofile'));
for (const file of cpuFiles) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let clock = 0;
  let task: Task | undefined;
  const endTask = (): void => {
    if (task && longTaskUs > 0 && task.us >= longTaskUs) tasks.push(task);
    task = undefined;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    clock += dt;
    if (clock < skipUs) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    total += dt;
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id) as ProfileNode);
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      endTask();
    } else {
      const who = owner(stack);
      owners.set(who, (owners.get(who) ?? 0) + dt);
      task ??= { startUs: clock, us: 0, owners: new Map() };
      task.us += dt;
      task.owners.set(who, (task.owners.get(who) ?? 0) + dt);
    }
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    // Count each function once per sample, however deep its recursion.
    const seen = new Set<string>();
    for (const n of stack) {
      const l = label(n);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      seen.add(l);
    }
  }
  endTask();
}

const busy = total - idle;
const ms = (us: number): string => (us / 1000).toFixed(1).padStart(9);
function show(title: string, table: Map<string, number>): void {
  console.log(`\n${title} (ms, % of busy time)`);
  const rows = [...table].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`${ms(v)}  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
}
console.log(`${cpuFiles.length} CPU profile(s): ${ms(total).trim()} ms sampled, ${ms(busy).trim()} ms busy, ${ms(idle).trim()} ms idle`);
show('Self time', self);
show('Inclusive time', inclusive);
if (longTaskUs > 0) {
  show('Busy time by owner', owners);
  console.log(`\nRuns of busy samples of ${longTaskUs / 1000} ms or more: ${tasks.length}`);
  for (const t of tasks) {
    const parts = [...t.owners].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ');
    console.log(`  at ${(t.startUs / 1e6).toFixed(2)} s: ${(t.us / 1000).toFixed(1)} ms (${parts})`);
  }
}
if (allocated > 0) {
  const kb = (b: number): string => (b / 1024).toFixed(0).padStart(9);
  for (const [title, table] of [['Allocated (sampled) by owner', allocatedBy], ['Allocated (sampled) by function', allocatedIn]] as const) {
    console.log(`\n${title} (KiB, % of ${(allocated / 1024 / 1024).toFixed(0)} MiB)`);
    for (const [k, v] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${kb(v)}  ${((100 * v) / allocated).toFixed(1).padStart(5)}%  ${k}`);
  }
}
