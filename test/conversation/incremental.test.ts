// Incremental assembly: a new call updates only its session, and after every call the result
// equals a from-scratch build of the same calls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Assembler, assemble } from '../../src/conversation/assembler';
import { ASSEMBLER_VERSION, needsRebuild } from '../../src/conversation/version';
import { mixedWorkload } from '../support/mixed-workload';

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

function snapshot(assembler: Assembler): unknown {
  return json({ sessions: assembler.sessions(), details: assembler.sessionIds().sort().map((id) => assembler.session(id)) });
}

describe('incremental assembly', () => {
  test('each call changes only its own session', () => {
    const calls = mixedWorkload();
    const assembler = new Assembler();
    for (const call of calls) {
      const before = new Map(assembler.sessionIds().map((id) => [id, assembler.session(id)]));
      const { sessionId, retiredSessionIds } = assembler.addCall(call);
      for (const [id, detail] of before) {
        if (id === sessionId || retiredSessionIds.includes(id)) continue;
        // The cached view is returned untouched: the session's state did not change.
        assert.equal(assembler.session(id), detail, `call ${call.id} left session ${id} alone`);
      }
      // The returned id is the session that now holds the call's own session id.
      if (call.identity.sessionId !== undefined) assert.equal(assembler.session(call.identity.sessionId)?.id, sessionId);
    }
    assert.deepEqual(assembler.sessionIds().sort(), ['claude-1', 'codex-1', 'ses_p']);
  });

  test('after every call, the incremental result equals a from-scratch build', () => {
    const calls = mixedWorkload();
    const assembler = new Assembler();
    calls.forEach((call, i) => {
      assembler.add(call);
      assert.deepEqual(snapshot(assembler), snapshot(assemble(calls.slice(0, i + 1))), `after call ${i + 1}`);
    });
  });

  test('the workload assembles as expected', () => {
    const assembler = assemble(mixedWorkload());
    const claude = assembler.session('claude-1')!;
    assert.equal(claude.summary.title, 'Explore repo');
    assert.deepEqual(claude.threads.map((t) => [t.kind, t.parentToolCallId]), [['main', undefined], ['subagent', 'toolu_1'], ['side', undefined]]);
    assert.equal(claude.threads[0]!.turns[1]!.retries, 1);
    const opencode = assembler.session('ses_c')!;
    assert.equal(opencode.id, 'ses_p');
    assert.equal(opencode.threads.find((t) => t.kind === 'subagent')?.parentToolCallId, 'call_t');
    assert.equal(assembler.session('codex-1')!.threads.find((t) => t.kind === 'main')?.turns[0]?.steps.find((s) => s.type === 'tool_call')?.output, '1 failing');
  });

  test('the assembler version marks derived data for rebuild', () => {
    assert.equal(needsRebuild(ASSEMBLER_VERSION), false);
    assert.equal(needsRebuild(ASSEMBLER_VERSION - 1), true);
    assert.equal(needsRebuild(undefined), true);
    assert.equal(assemble(mixedWorkload()).sessions()[0]!.assemblerVersion, ASSEMBLER_VERSION);
  });
});
