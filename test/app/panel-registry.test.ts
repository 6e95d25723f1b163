// The conversation panels' bookkeeping: one panel per session, and when session B merges into A,
// no panel is left open that nothing updates. B's panel shows A when A has none; when A has one,
// B's is closed and A's is named as the one to reveal; A's own panel just stays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PanelRegistry, type SessionPanel } from '../../src/app/panel-registry';

class Panel implements SessionPanel {
  disposals = 0;
  constructor(public sessionId: string) {}
  dispose(): void {
    this.disposals++;
  }
}

/** B and C were merged into A; everything else stands for itself. */
const merged = (map: Record<string, string>) => (id: string): string => map[id] ?? id;

describe('panel registry', () => {
  test('a panel retargeted to another session is found under it only, and replaces a panel there', () => {
    const r = new PanelRegistry<Panel>();
    const preview = new Panel('A');
    const other = new Panel('C');
    r.add(preview);
    r.add(other);
    r.retarget(preview, 'B');
    assert.equal(preview.sessionId, 'B');
    assert.equal(r.get('A'), undefined);
    assert.equal(r.get('B'), preview);
    r.retarget(preview, 'C');
    assert.equal(other.disposals, 1, "C's own panel is closed: one panel per session");
    assert.deepEqual(r.values(), [preview]);
  });

  test('both open: B is closed, A kept and named to reveal, and only A is registered', () => {
    const r = new PanelRegistry<Panel>();
    const a = new Panel('A');
    const b = new Panel('B');
    r.add(a);
    r.add(b);
    const outcomes = r.followMerges(merged({ B: 'A' }));
    assert.deepEqual(outcomes, [{ kind: 'closed', panel: b, survivor: a, from: 'B', to: 'A' }]);
    assert.equal(b.disposals, 1);
    assert.equal(a.disposals, 0);
    assert.equal(r.get('A'), a);
    assert.equal(r.get('B'), undefined);
    assert.deepEqual(r.values(), [a]);
  });

  test("only B open: B's panel now shows A and is found under A", () => {
    const r = new PanelRegistry<Panel>();
    const b = new Panel('B');
    r.add(b);
    assert.deepEqual(r.followMerges(merged({ B: 'A' })), [{ kind: 'retargeted', panel: b, from: 'B', to: 'A' }]);
    assert.equal(b.sessionId, 'A');
    assert.equal(b.disposals, 0);
    assert.equal(r.get('A'), b);
    assert.equal(r.get('B'), undefined);
    // Closing it later forgets it under its new session.
    r.remove(b);
    assert.equal(r.size, 0);
  });

  test('only A open: nothing moves or closes', () => {
    const r = new PanelRegistry<Panel>();
    const a = new Panel('A');
    r.add(a);
    assert.deepEqual(r.followMerges(merged({ B: 'A' })), []);
    assert.equal(r.get('A'), a);
    assert.equal(a.disposals, 0);
  });

  test('B and C both merge into A, which had no panel: the first moves, the second closes in its favour', () => {
    const r = new PanelRegistry<Panel>();
    const b = new Panel('B');
    const c = new Panel('C');
    r.add(b);
    r.add(c);
    const outcomes = r.followMerges(merged({ B: 'A', C: 'A' }));
    assert.deepEqual(outcomes.map((o) => [o.kind, o.from]), [['retargeted', 'B'], ['closed', 'C']]);
    assert.equal(outcomes[1].kind === 'closed' && outcomes[1].survivor, b);
    assert.equal(c.disposals, 1);
    assert.deepEqual(r.values(), [b]);
  });

  test('an unknown session (history still loading) leaves its panel alone', () => {
    const r = new PanelRegistry<Panel>();
    const b = new Panel('B');
    r.add(b);
    assert.deepEqual(r.followMerges(() => undefined), []);
    assert.equal(r.get('B'), b);
  });

  test('a second panel for the same session replaces the first, which is closed; removing a replaced panel keeps the new one', () => {
    const r = new PanelRegistry<Panel>();
    const first = new Panel('A');
    const second = new Panel('A');
    r.add(first);
    r.add(second);
    assert.equal(first.disposals, 1);
    r.remove(first);
    assert.equal(r.get('A'), second);
  });

  test('disposeAll closes every panel once and forgets them', () => {
    const r = new PanelRegistry<Panel>();
    const panels = [new Panel('A'), new Panel('B')];
    for (const p of panels) r.add(p);
    r.disposeAll();
    assert.deepEqual(panels.map((p) => p.disposals), [1, 1]);
    assert.equal(r.size, 0);
  });
});
