// The Tools tab: each tool definition the thread was offered (name, description, input schema),
// folded per tool. Descriptions and schemas are captured content: they go in as text only.
import type { ToolDefinition } from '../../src/shared/conversation-view-model';
import type { ViewThread } from '../../src/shared/conversation-view-model';
import { el, pre } from './dom';
import type { Widgets } from './widgets';

export class ToolDefinitionsTab {
  /** What is drawn, so that a live update with the same definitions keeps the folds as they are. */
  private drawn = '';

  constructor(private readonly box: HTMLElement, private readonly ui: Widgets) {}

  /** `query` is the search: folds are rebuilt when it changes, to open those it is found in. */
  render(thread: ViewThread | undefined, query: string): void {
    const defs = thread?.toolDefinitions ?? [];
    const key = `${thread?.id ?? ''}\n${query}\n${JSON.stringify(defs)}`;
    if (key === this.drawn) return;
    this.drawn = key;
    if (defs.length === 0) {
      this.box.replaceChildren(el('p', { class: 'empty' }, 'No tool definitions captured for this thread.'));
      return;
    }
    this.box.replaceChildren(
      el('div', { class: 'block-head' }, el('span', { class: 'label' }, `${defs.length} tool${defs.length === 1 ? '' : 's'}`),
        this.ui.copyButton(() => JSON.stringify(defs, null, 2))),
      ...defs.map((d) => this.tool(d)),
    );
  }

  private tool(d: ToolDefinition): HTMLElement {
    const summary = (d.description ?? '').split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
    const c = this.ui.collapsible(d.name, () => {
      const parts: Node[] = [el('div', { class: 'block-head' },
        el('span', { class: 'label' }, d.kind ? `${d.kind} tool` : 'tool'), this.ui.copyButton(() => JSON.stringify(d, null, 2)))];
      if (d.description) parts.push(el('div', { class: 'label' }, 'Description'), pre(d.description, 'prompt'));
      if (d.inputSchema !== undefined) {
        // A custom tool's grammar is text; a function's schema is JSON.
        const schema = typeof d.inputSchema === 'string' ? d.inputSchema : JSON.stringify(d.inputSchema, null, 2);
        parts.push(el('div', { class: 'block-head' }, el('span', { class: 'label' }, 'Input schema'), this.ui.copyButton(() => schema)), pre(schema, 'json'));
      } else {
        parts.push(el('p', { class: 'muted' }, 'No input schema.'));
      }
      return parts;
    }, false, summary.length > 100 ? `${summary.slice(0, 99)}…` : summary);
    return el('div', { class: 'block tool-def' }, c);
  }
}
