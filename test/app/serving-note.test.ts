// The note a serving window leaves in the data directory, and what other windows do on reading
// it: attach to a running capture, follow a window that took over, take over when the serving
// window is gone, stop when capture was stopped on purpose in any window.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readNote, readNoteFile, removeNote, sharingStep, writeNote, type ServingNote } from '../../src/app/serving-note';

const SELF = 1000;
const note = (over: Partial<ServingNote> = {}): ServingNote => ({
  pid: 2000, port: 8899, proxyUrl: 'http://127.0.0.1:8899', startedAt: '2026-12-02T10:00:00.000Z', server: 'vscode', ...over,
});
const alive = () => true;
const dead = () => false;

describe('sharing one capture between windows', () => {
  it('a stopped window attaches to another window\'s running capture, not to its own, a stopped one, or the CLI\'s', () => {
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, note(), alive), { kind: 'attach', note: note() });
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, note({ pid: SELF }), alive), { kind: 'none' });
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, note({ stoppedAt: 'x' }), alive), { kind: 'none' });
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, note({ server: 'cli' }), alive), { kind: 'none' });
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, note(), dead), { kind: 'none' });
    assert.deepEqual(sharingStep({ role: undefined, pid: SELF }, undefined, alive), { kind: 'none' });
  });

  it('a window that stopped itself out of a capture does not attach to it again, but does to the next one', () => {
    const state = { role: undefined, pid: SELF, declined: note().startedAt };
    assert.deepEqual(sharingStep(state, note(), alive), { kind: 'none' });
    const next = note({ startedAt: '2026-12-02T11:00:00.000Z' });
    assert.deepEqual(sharingStep(state, next, alive), { kind: 'attach', note: next });
  });

  it('an attached window takes over when the serving window is gone (note removed, or its process dead)', () => {
    const state = { role: 'attached' as const, servedByPid: 2000, pid: SELF };
    assert.deepEqual(sharingStep(state, note(), alive), { kind: 'none' });
    assert.deepEqual(sharingStep(state, undefined, alive), { kind: 'take-over' });
    assert.deepEqual(sharingStep(state, note(), dead), { kind: 'take-over' });
  });

  it('an attached window follows another window that took over first, and stops when capture was stopped on purpose', () => {
    const state = { role: 'attached' as const, servedByPid: 2000, pid: SELF };
    const other = note({ pid: 3000 });
    assert.deepEqual(sharingStep(state, other, alive), { kind: 'attach', note: other });
    assert.deepEqual(sharingStep(state, note({ stoppedAt: 'x' }), alive), { kind: 'stop' });
    assert.deepEqual(sharingStep(state, note({ pid: 3000, stoppedAt: 'x' }), alive), { kind: 'stop' });
  });

  it('the serving window stops when an attached window asks it to', () => {
    const state = { role: 'serving' as const, pid: SELF };
    assert.deepEqual(sharingStep(state, note({ pid: SELF }), alive), { kind: 'none' });
    assert.deepEqual(sharingStep(state, note({ pid: SELF, stopRequestedAt: 'x' }), alive), { kind: 'stop' });
  });
});

describe('the note file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-note-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is written whole and private, read back while its process runs, and removed only by its owner', () => {
    writeNote(dir, note({ pid: process.pid, token: 'secret' }));
    assert.equal(statSync(join(dir, 'proxy.json')).mode & 0o777, 0o600);
    assert.equal(readNote(dir)?.token, 'secret');
    removeNote(dir, process.pid + 1);
    assert.ok(readNoteFile(dir), 'another pid does not remove it');
    writeNote(dir, note({ pid: process.pid, stoppedAt: 'x' }));
    assert.equal(readNote(dir), undefined, 'a stopped capture is not running');
    assert.ok(readNoteFile(dir)?.stoppedAt);
    removeNote(dir, process.pid);
    assert.equal(readNoteFile(dir), undefined);
  });
});
