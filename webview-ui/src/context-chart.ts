// The thread's context over time (decision 69): a bar per model call, its input split into what
// was read from the prompt cache and what was not, then its output; the cost so far as a line;
// cache breaks, history restarts and subagents marked. Plain SVG in the theme's chart colours:
// a few thousand elements for a 1,000-call thread, drawn after the turns' first frame.
import type { ViewPoint, ViewThread } from '../../src/shared/conversation-view-model';
import { el } from './dom';

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 120;
/** Room above the bars for the break marks. */
const TOP = 12;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: Array<Node | undefined>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) if (c) node.append(c);
  return node;
}

const tokens = (n: number): string => (n < 1000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k` : `${(n / 1_000_000).toFixed(1)}M`);
const usd = (n: number | null): string => (n === null ? 'cost unknown' : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`);

export class ContextChart {
  readonly box = el('div', { class: 'context-chart' });
  private threadId = '';
  private signature = '';
  private points: readonly ViewPoint[] = [];
  private readonly readout = el('div', { class: 'chart-readout' });
  private readonly cursor = svg('rect', { class: 'cursor', x: 0, width: 1, y: 0, height: HEIGHT, visibility: 'hidden' });

  constructor(private readonly onSelect: (turnIndex: number) => void) {
    // One listener for the whole chart: the call under the pointer is found from its x.
    this.box.addEventListener('click', (event) => {
      const p = this.pointAt(event);
      if (p) this.onSelect(p.turnIndex);
    });
    this.box.addEventListener('mousemove', (event) => this.hover(this.pointAt(event)));
    this.box.addEventListener('mouseleave', () => this.hover(undefined));
  }

  show(thread: ViewThread | undefined): void {
    const points = thread?.points ?? [];
    // Redrawn only when the thread or its calls changed (a live update often changes neither).
    const signature = `${points.length}:${points[points.length - 1]?.callId ?? ''}:${points[points.length - 1]?.costSoFar ?? ''}`;
    if (thread?.id === this.threadId && signature === this.signature) return;
    this.threadId = thread?.id ?? '';
    this.signature = signature;
    this.points = points;
    if (points.length === 0) {
      this.box.replaceChildren();
      return;
    }
    this.readout.textContent = 'Point at a bar for its figures; click it to open its turn.';
    this.box.replaceChildren(this.caption(points), this.chart(points), this.readout);
  }

  private pointAt(event: MouseEvent): ViewPoint | undefined {
    const chart = this.box.querySelector('svg');
    if (!chart || !(event.target instanceof Element) || !chart.contains(event.target)) return undefined;
    const rect = chart.getBoundingClientRect();
    const i = Math.floor(((event.clientX - rect.left) / rect.width) * this.points.length);
    return this.points[Math.max(0, Math.min(this.points.length - 1, i))];
  }

  private hover(p: ViewPoint | undefined): void {
    if (!p) {
      this.cursor.setAttribute('visibility', 'hidden');
      return;
    }
    this.cursor.setAttribute('x', String(this.points.indexOf(p)));
    this.cursor.setAttribute('visibility', 'visible');
    this.readout.textContent = [
      `Call ${p.callId} · turn ${p.turnIndex + 1}`, `${tokens(p.cached)} cached · ${tokens(p.fresh)} new · ${tokens(p.output)} output`,
      `cost so far ${usd(p.costSoFar)}`, p.cacheBreak ? `cache break: ${p.cacheBreak}` : '', p.restart ? 'history restarted' : '',
      p.subagents ? `started ${p.subagents.join(', ')}` : '',
    ].filter(Boolean).join(' · ');
  }

  private caption(points: readonly ViewPoint[]): HTMLElement {
    const peak = Math.max(...points.map((p) => p.cached + p.fresh));
    const breaks = points.filter((p) => p.cacheBreak).length;
    const key = (cls: string, label: string) => el('span', { class: 'key' }, el('span', { class: `swatch ${cls}` }), label);
    return el('div', { class: 'chart-caption' },
      el('span', {}, `Context per call · ${points.length} call${points.length === 1 ? '' : 's'} · peak ${tokens(peak)} in · ${usd(points[points.length - 1]!.costSoFar)} in all${breaks ? ` · ${breaks} cache break${breaks === 1 ? '' : 's'}` : ''}`),
      key('cached', 'cached'), key('fresh', 'new'), key('output', 'output'), key('cost', 'cost so far'),
      breaks ? key('break', 'cache break') : undefined,
      points.some((p) => p.restart) ? key('restart', 'history restarted') : undefined,
      points.some((p) => p.subagents) ? key('subagent', 'subagent started') : undefined);
  }

  /**
   * One path per series, whatever the number of calls: a 1,000-call thread is a handful of elements,
   * not thousands, so it is built in a few milliseconds.
   */
  private chart(points: readonly ViewPoint[]): SVGSVGElement {
    const n = points.length;
    const max = Math.max(1, ...points.map((p) => p.cached + p.fresh + p.output));
    const maxCost = Math.max(0, ...points.map((p) => p.costSoFar ?? 0));
    const y = (v: number) => TOP + (HEIGHT - TOP) * (1 - v / max);
    const gap = n > 200 ? 0 : 0.15;
    const series: Record<'cached' | 'fresh' | 'output' | 'break' | 'subagent', string[]> = { cached: [], fresh: [], output: [], break: [], subagent: [] };
    const restarts: string[] = [];
    points.forEach((p, i) => {
      let base = 0;
      for (const [cls, value] of [['cached', p.cached], ['fresh', p.fresh], ['output', p.output]] as const) {
        if (value <= 0) continue;
        series[cls].push(`M${i + gap / 2} ${y(base + value)}h${1 - gap}V${y(base)}h${gap - 1}z`);
        base += value;
      }
      if (p.cacheBreak) series.break.push(`M${i} 0h1v${TOP / 2 - 1}h-1z`);
      if (p.subagents) series.subagent.push(`M${i} ${TOP / 2}h1v${TOP / 2 - 1}h-1z`);
      if (p.restart) restarts.push(`M${i} 0V${HEIGHT}`);
    });
    const paths = (Object.keys(series) as Array<keyof typeof series>).filter((k) => series[k].length > 0)
      .map((k) => svg('path', { class: k, d: series[k].join('') }));
    const restart = restarts.length > 0 ? svg('path', { class: 'restart', d: restarts.join(''), 'vector-effect': 'non-scaling-stroke' }) : undefined;
    const cost = maxCost > 0
      ? svg('polyline', {
        class: 'cost', fill: 'none', 'vector-effect': 'non-scaling-stroke',
        points: points.map((p, i) => `${i + 0.5},${TOP + (HEIGHT - TOP) * (1 - (p.costSoFar ?? 0) / maxCost)}`).join(' '),
      })
      : undefined;
    return svg('svg', { viewBox: `0 0 ${n} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Context per model call' },
      ...paths, restart, cost, this.cursor);
  }
}
