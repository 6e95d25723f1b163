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

  constructor(private readonly onSelect: (turnIndex: number) => void) {
    this.box.addEventListener('click', (event) => {
      const bar = (event.target as Element).closest('[data-turn]');
      if (bar) this.onSelect(Number(bar.getAttribute('data-turn')));
    });
  }

  show(thread: ViewThread | undefined): void {
    const points = thread?.points ?? [];
    // Redrawn only when the thread or its calls changed (a live update often changes neither).
    const signature = `${points.length}:${points[points.length - 1]?.callId ?? ''}:${points[points.length - 1]?.costSoFar ?? ''}`;
    if (thread?.id === this.threadId && signature === this.signature) return;
    this.threadId = thread?.id ?? '';
    this.signature = signature;
    if (points.length === 0) {
      this.box.replaceChildren();
      return;
    }
    this.box.replaceChildren(this.caption(points), this.chart(points));
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

  private chart(points: readonly ViewPoint[]): SVGSVGElement {
    const n = points.length;
    const max = Math.max(1, ...points.map((p) => p.cached + p.fresh + p.output));
    const maxCost = Math.max(0, ...points.map((p) => p.costSoFar ?? 0));
    const y = (v: number) => TOP + (HEIGHT - TOP) * (1 - v / max);
    const bars = svg('g', {});
    const marks = svg('g', {});
    const gap = n > 200 ? 0 : 0.15;
    points.forEach((p, i) => {
      const group = svg('g', { 'data-turn': p.turnIndex, class: 'bar' });
      let base = 0;
      for (const [cls, value] of [['cached', p.cached], ['fresh', p.fresh], ['output', p.output]] as const) {
        if (value <= 0) continue;
        group.append(svg('rect', { class: cls, x: i + gap / 2, width: 1 - gap, y: y(base + value), height: y(base) - y(base + value) }));
        base += value;
      }
      // The whole column answers the pointer, however short its bar.
      group.append(svg('rect', { class: 'hit', x: i, width: 1, y: 0, height: HEIGHT }));
      const title = svg('title', {});
      title.textContent = [
        `Call ${p.callId} · turn ${p.turnIndex + 1}`, `${tokens(p.cached)} cached · ${tokens(p.fresh)} new · ${tokens(p.output)} output`,
        `cost so far ${usd(p.costSoFar)}`, p.cacheBreak ? `cache break: ${p.cacheBreak}` : '', p.restart ? 'history restarted' : '',
        p.subagents ? `started ${p.subagents.join(', ')}` : '',
      ].filter(Boolean).join('\n');
      group.append(title);
      bars.append(group);
      if (p.cacheBreak) marks.append(svg('rect', { class: 'break', x: i, width: 1, y: 0, height: TOP / 2 - 1 }));
      if (p.restart) marks.append(svg('line', { class: 'restart', x1: i, x2: i, y1: 0, y2: HEIGHT, 'vector-effect': 'non-scaling-stroke' }));
      if (p.subagents) marks.append(svg('rect', { class: 'subagent', x: i, width: 1, y: TOP / 2, height: TOP / 2 - 1 }));
    });
    const cost = maxCost > 0
      ? svg('polyline', {
        class: 'cost', fill: 'none', 'vector-effect': 'non-scaling-stroke',
        points: points.map((p, i) => `${i + 0.5},${TOP + (HEIGHT - TOP) * (1 - (p.costSoFar ?? 0) / maxCost)}`).join(' '),
      })
      : undefined;
    return svg('svg', { viewBox: `0 0 ${n} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Context per model call' }, bars, cost, marks);
  }
}
