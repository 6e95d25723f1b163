// Disposables, in the style of VS Code's own extensions: a base class that owns what it registers.
export interface IDisposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; fn(); } } };
}

export function disposeAll(disposables: IDisposable[]): void {
  while (disposables.length > 0) {
    try {
      disposables.pop()!.dispose();
    } catch {
      // One failing disposable must not keep the others alive.
    }
  }
}

export abstract class Disposable implements IDisposable {
  private disposed = false;
  protected readonly disposables: IDisposable[] = [];

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected register<T extends IDisposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.disposables.push(value);
    return value;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.disposables);
  }
}
