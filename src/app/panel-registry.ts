// Which conversation panel shows which session, and what becomes of the panels when sessions
// merge. Pure bookkeeping, generic over the panel, so it is tested without VS Code.
//
// When session B is retired into A: if A has no panel, B's panel now shows A (the user was looking
// at that conversation, and it continues as A); if A has one, B's panel is closed and A's is the
// one to reveal. Either way no panel is left open that nothing updates.

export interface SessionPanel {
  /** The session shown; the registry moves it when that session merges into another. */
  sessionId: string;
  /** Closes the panel. Called at most once by the registry; may be called again by its owner. */
  dispose(): void;
}

export type MergeOutcome<P> =
  /** `to` had no panel: the panel that showed `from` shows `to` now. */
  | { kind: 'retargeted'; panel: P; from: string; to: string }
  /** `to` had a panel (`survivor`): the panel that showed `from` was closed. */
  | { kind: 'closed'; panel: P; survivor: P; from: string; to: string };

export class PanelRegistry<P extends SessionPanel> {
  private readonly bySession = new Map<string, P>();

  get(sessionId: string): P | undefined {
    return this.bySession.get(sessionId);
  }

  values(): P[] {
    return [...this.bySession.values()];
  }

  get size(): number {
    return this.bySession.size;
  }

  /** One panel per session: another panel already there for the same session is closed. */
  add(panel: P): void {
    const previous = this.bySession.get(panel.sessionId);
    this.bySession.set(panel.sessionId, panel);
    if (previous && previous !== panel) previous.dispose();
  }

  /**
   * The panel shows another session now (a preview panel reused): it is found under that id, no
   * longer under its old one. Another panel already there for that session is closed.
   */
  retarget(panel: P, sessionId: string): void {
    if (this.bySession.get(panel.sessionId) === panel) this.bySession.delete(panel.sessionId);
    panel.sessionId = sessionId;
    this.add(panel);
  }

  /** The panel was closed (by the user or by us): forget it, if it still stands for its session. */
  remove(panel: P): void {
    if (this.bySession.get(panel.sessionId) === panel) this.bySession.delete(panel.sessionId);
  }

  /**
   * Follows merged sessions. `resolve` gives the session that now holds an id: the id itself when
   * it was not merged, undefined when unknown (such panels are left as they are).
   */
  followMerges(resolve: (sessionId: string) => string | undefined): MergeOutcome<P>[] {
    const outcomes: MergeOutcome<P>[] = [];
    for (const [from, panel] of [...this.bySession]) {
      // An earlier step of this loop may have closed it already.
      if (this.bySession.get(from) !== panel) continue;
      const to = resolve(from);
      if (to === undefined || to === from) continue;
      this.bySession.delete(from);
      const survivor = this.bySession.get(to);
      if (survivor) {
        panel.dispose();
        outcomes.push({ kind: 'closed', panel, survivor, from, to });
      } else {
        panel.sessionId = to;
        this.bySession.set(to, panel);
        outcomes.push({ kind: 'retargeted', panel, from, to });
      }
    }
    return outcomes;
  }

  /** Closes every panel. */
  disposeAll(): void {
    const all = this.values();
    this.bySession.clear();
    for (const p of all) p.dispose();
  }
}
