// The few widgets main.ts owns (copy goes through the host; folded bodies are built on first open
// and take part in the search), handed to the tab renderers that live in their own modules.
export interface Widgets {
  copyButton(text: () => string): HTMLElement;
  collapsible(heading: string, body: () => Node[], open?: boolean, description?: string): HTMLElement;
}
