// Folded blocks that stay as the user left them when their turn is drawn again. A live session
// redraws a turn whenever a call adds to it (a tool's result, the answer after it); without this,
// a tool call the user had unfolded would fold itself shut under them as the agent went on.

/** Builds a fold's body, for the folds that build it when first opened (see main.ts). */
const builders = new WeakMap<Element, () => void>();

/** The key a fold is found by in the same turn drawn again: `tool:<call id>`, `calls`, … */
export function setFoldKey(fold: HTMLElement, key: string): HTMLElement {
  fold.dataset.fold = key;
  return fold;
}

/** Registers how `fold` builds its body, so that opening it from here builds it as a click would. */
export function onFirstOpen(fold: Element, build: () => void): void {
  builders.set(fold, build);
}

type Fold = HTMLElement & { open: boolean };

/**
 * Opens in `to` the folds that are open in `from` (the same turn, drawn before), matched by key.
 * Outer folds come first in document order, so a fold inside one is there once its outer one is built.
 */
export function keepFolds(from: ParentNode, to: ParentNode): void {
  const open = [...from.querySelectorAll<Fold>('vscode-collapsible[data-fold]')].filter((f) => f.open).map((f) => f.dataset.fold!);
  for (const key of open) {
    const fold = [...to.querySelectorAll<Fold>('vscode-collapsible[data-fold]')].find((f) => f.dataset.fold === key);
    if (!fold || fold.open) continue;
    builders.get(fold)?.();
    fold.open = true;
  }
}
