// Small DOM helpers. Captured content only ever goes in through textContent; the one innerHTML
// is safe-markdown's output (raw HTML disabled, links validated).
import { renderMarkdown } from '../../src/shared/safe-markdown';

type Attrs = Record<string, string | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Array<Node | string | undefined>): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Attrs, ...children: Array<Node | string | undefined>): HTMLElement;
export function el(tag: string, attrs: Attrs = {}, ...children: Array<Node | string | undefined>): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') node.className = String(v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === undefined) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export function markdown(text: string): HTMLElement {
  const div = el('div', { class: 'markdown' });
  div.innerHTML = renderMarkdown(text);
  for (const a of div.querySelectorAll('a')) a.setAttribute('rel', 'noreferrer noopener');
  return div;
}

export function pre(text: string, cls = ''): HTMLElement {
  const p = el('pre', { class: cls });
  p.textContent = text;
  return p;
}

/** Wraps each case-insensitive occurrence of `query` in the text under `root` in a <mark>. */
export function highlight(root: Node, query: string): number {
  if (query === '') return 0;
  const needle = query.toLowerCase();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n as Text);
  let count = 0;
  for (const node of nodes) {
    const text = node.data;
    const lower = text.toLowerCase();
    let at = lower.indexOf(needle);
    if (at < 0) continue;
    const frag = document.createDocumentFragment();
    let from = 0;
    while (at >= 0) {
      frag.append(text.slice(from, at));
      const mark = document.createElement('mark');
      mark.textContent = text.slice(at, at + needle.length);
      frag.append(mark);
      count++;
      from = at + needle.length;
      at = lower.indexOf(needle, from);
    }
    frag.append(text.slice(from));
    node.replaceWith(frag);
  }
  return count;
}
