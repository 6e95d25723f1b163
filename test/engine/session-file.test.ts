// A session's file is written a little at each save (docs/decisions.md, decision 85): what is
// new goes to its pieces file, a text the assembly spilled is read back once, not at every save,
// and what is read back is exactly what was assembled. A pieces file mostly unused is replaced;
// a damaged one gives no detail (the session is read from its calls), never a wrong one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LiveSessions } from '../../src/app/live-sessions';
import type { SessionDetail } from '../../src/conversation/types';
import { DerivedSessions, type StoreMark } from '../../src/engine/derived-sessions';
import { FileTextSpill } from '../../src/engine/file-text-spill';
import { CaptureStore } from '../../src/store';
import { claudeTurnExchange, SEED_T0 } from '../support/claude-exchange';

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('session files written a piece at a time', () => {
  let dataDir: string;
  let store: CaptureStore;
  let spill: FileTextSpill;
  let live: LiveSessions;
  let exchangeId = 0;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'llmc-session-file-'));
    store = await CaptureStore.open({ dataDir, mode: 'writer', retention: {} });
    store.connectionUpdated({ id: 1, clientAddress: '127.0.0.1', clientPort: 5000, targetHost: 'api.anthropic.com', targetPort: 443, mode: 'intercept', tlsOutcome: 'ok', openedAt: SEED_T0 });
    exchangeId = 0;
    // Every text spilled, as long texts are in the engine.
    spill = FileTextSpill.open(dataDir, { minChars: 1 })!;
    live = new LiveSessions(store, undefined, 0, { spill });
  });

  afterEach(async () => {
    spill.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `turns` more turns of session 0, assembled. */
  function addTurns(from: number, turns: number): SessionDetail {
    for (let turn = from; turn < from + turns; turn++) store.exchangeUpdated(claudeTurnExchange(++exchangeId, 0, turn));
    while (live.update().more) { /* every exchange */ }
    const [summary] = live.assembler.sessions();
    return live.assembler.session(summary!.id)!;
  }

  function mark(): StoreMark {
    const newest = store.listExchanges({ limit: 1 }).items[0]!;
    return { lastExchangeId: newest.id, lastStartedAt: newest.startedAt };
  }

  const sessionsDir = () => join(dataDir, 'derived', 'sessions');
  const piecesFiles = () => readdirSync(sessionsDir()).filter((n) => n.endsWith('.pieces'));
  const piecesBytes = () => piecesFiles().reduce((n, f) => n + statSync(join(sessionsDir(), f)).size, 0);

  it('a save appends only what is new, and reads no spilled text twice', async () => {
    const derived = new DerivedSessions(dataDir);
    let detail = addTurns(0, 40);
    await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const first = piecesBytes();
    const readsAfterFirst = spill.stats.reads;
    assert.ok(readsAfterFirst > 0, 'the first save reads the texts');

    // Saved again unchanged: nothing appended, nothing read.
    await derived.save(mark(), live.calls, live.assembler.sessions(), [live.assembler.session(detail.id)!]);
    assert.equal(piecesBytes(), first, 'nothing appended');
    assert.equal(spill.stats.reads, readsAfterFirst, 'no text read back');

    // Two turns more: about two turns' worth appended, and only their texts read.
    detail = addTurns(40, 2);
    const readsBefore = spill.stats.reads;
    await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const added = piecesBytes() - first;
    assert.ok(added > 0 && added < first / 2, `two turns appended ${added} bytes to a file of ${first}`);
    assert.ok(spill.stats.reads - readsBefore < readsAfterFirst / 3, `the second save read ${spill.stats.reads - readsBefore} texts, the first ${readsAfterFirst}`);
    assert.equal(piecesFiles().length, 1);

    // Another writer (the next start) reads exactly the assembly's detail.
    assert.deepEqual(await new DerivedSessions(dataDir).detail(detail.id), json(detail));
  });

  it('a turn equal to the one saved in its place is not serialised again; one that changed is', async () => {
    const derived = new DerivedSessions(dataDir);
    const detail = addTurns(0, 40);
    const first = await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const turns = detail.threads.reduce((n, t) => n + t.turns.length, 0);
    assert.ok(first.encoded > turns, `the first save encodes every turn (${first.encoded} pieces, ${turns} turns)`);
    assert.equal(first.kept, 0);

    // Two turns more: the assembler's new detail; its 40 earlier turns are equal, not the same objects.
    const grown = addTurns(40, 2);
    assert.notEqual(grown.threads[0]!.turns[0], detail.threads[0]!.turns[0], 'a new detail');
    const second = await derived.save(mark(), live.calls, live.assembler.sessions(), [grown]);
    assert.ok(second.kept >= 39, `${second.kept} leaves kept`);
    assert.ok(second.encoded <= 10, `${second.encoded} pieces encoded for two new turns`);

    // A turn changed in place of an earlier one (a new detail with an edited turn) is written again.
    const edited = json(grown) as SessionDetail;
    edited.threads[0]!.turns[5]!.prompt = 'edited';
    const third = await derived.save(mark(), live.calls, live.assembler.sessions(), [edited]);
    // The edited turn, and each thread (a thread is always encoded: it lists where its turns are).
    assert.equal(third.encoded, 1 + edited.threads.length, `${third.encoded} encoded, ${third.kept} kept`);
    assert.deepEqual(await new DerivedSessions(dataDir).detail(edited.id), edited);

    // Set aside (out of the engine's memory), it holds nothing of the session: the next save encodes it whole.
    derived.setAside(grown.id);
    const fourth = await derived.save(mark(), live.calls, live.assembler.sessions(), [json(edited) as SessionDetail]);
    assert.equal(fourth.kept, 0);
    assert.ok(fourth.encoded > turns);
  });

  it('a new writer starts a new pieces file and deletes the one before at its next save', async () => {
    const detail = addTurns(0, 4);
    await new DerivedSessions(dataDir).save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const [before] = piecesFiles();
    const next = new DerivedSessions(dataDir);
    await next.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    assert.equal(piecesFiles().length, 2, 'the old file stays for a reader that may be in it');
    await next.save(mark(), live.calls, live.assembler.sessions(), []);
    assert.deepEqual(piecesFiles().filter((n) => n === before), [], 'gone at the next save');
    assert.deepEqual(await new DerivedSessions(dataDir).detail(detail.id), json(detail));
  });

  it('a pieces file that is mostly replaced pieces is written anew', async () => {
    const derived = new DerivedSessions(dataDir);
    const first = json(addTurns(0, 3)) as SessionDetail;
    let detail = first;
    // A last turn that keeps changing (a long answer streaming in): each version is a new piece.
    // Each is a new detail, as the assembler makes one at each change (save's contract).
    for (let i = 0; i < 30; i++) {
      detail = json(first) as SessionDetail;
      detail.threads[0]!.turns[2]!.prompt = randomBytes(150_000).toString('base64');
      await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    }
    assert.ok(piecesBytes() < 3 * 1024 * 1024, `${piecesBytes()} bytes in ${piecesFiles().length} files after 30 versions`);
    assert.deepEqual(await new DerivedSessions(dataDir).detail(detail.id), detail);
  });

  it('a writer whose files were deleted under it (the capture cleared) writes them anew', async () => {
    const derived = new DerivedSessions(dataDir);
    const detail = addTurns(0, 4);
    await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    rmSync(join(dataDir, 'derived'), { recursive: true });
    await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    assert.deepEqual(await new DerivedSessions(dataDir).detail(detail.id), json(detail));
  });

  it("pruning keeps each session's skeleton and the pieces file it names, nothing else", async () => {
    const derived = new DerivedSessions(dataDir);
    const detail = addTurns(0, 4);
    await derived.save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const kept = readdirSync(sessionsDir()).sort();
    writeFileSync(join(sessionsDir(), `${kept[0]!.split('.')[0]}.json.gz.4242.tmp`), 'left by a crash');
    writeFileSync(join(sessionsDir(), `${'0'.repeat(24)}.json.gz`), 'a session merged away');
    writeFileSync(join(sessionsDir(), `${'0'.repeat(24)}.${'1'.repeat(12)}.pieces`), 'its pieces');
    // By a writer that has not saved the session (the next start).
    await new DerivedSessions(dataDir).prune(new Set([detail.id]));
    assert.deepEqual(readdirSync(sessionsDir()).sort(), kept);
    assert.deepEqual(await new DerivedSessions(dataDir).detail(detail.id), json(detail));
  });

  it('a damaged or missing pieces file gives no detail, never a wrong one', async () => {
    const detail = addTurns(0, 6);
    await new DerivedSessions(dataDir).save(mark(), live.calls, live.assembler.sessions(), [detail]);
    const [file] = piecesFiles();
    const path = join(sessionsDir(), file!);
    truncateSync(path, statSync(path).size - 100);
    assert.equal(await new DerivedSessions(dataDir).detail(detail.id), undefined, 'cut short');
    rmSync(path);
    assert.equal(await new DerivedSessions(dataDir).detail(detail.id), undefined, 'missing');
  });
});
