// How a reader keeps up with the writer: it applies the records appended to the journal since
// its last look, and when the writer replaces the journal after a snapshot, it finishes the old
// file (still open, so still readable) and continues in the new one, without reloading the
// snapshot. Only a gap it cannot bridge (or damage that does not heal) asks for a reload.
import { JournalFollower } from './journal';
import { replay, type LoadedState } from './store-loader';

/** Polls in a row that may see a bad record before it is treated as damage (a write caught half-way heals by itself). */
const CORRUPT_POLLS_TOLERATED = 5;

export class JournalFollow {
  private corruptPolls = 0;

  constructor(private readonly journalPath: string, private follower: JournalFollower | undefined) {}

  /**
   * Applies new records to `state` (its lastLsn advances). Returns how many were applied, or
   * 'reload' when the reader must load the snapshot again.
   */
  poll(state: LoadedState): number | 'reload' {
    if (!this.follower) {
      const f = JournalFollower.open(this.journalPath);
      if (!f) return 0;
      if (!this.continues(f, state)) {
        f.close();
        return 'reload';
      }
      this.follower = f;
    }
    const first = this.apply(this.follower, state);
    if (first === 'reload') return first;
    let applied = first;
    if (this.follower.replaced(this.journalPath)) {
      // Nothing is appended to the old file after the rename: read it to its end first.
      const rest = this.apply(this.follower, state);
      if (rest === 'reload') return rest;
      applied += rest;
      const next = JournalFollower.open(this.journalPath);
      if (next && this.continues(next, state)) {
        this.follower.close();
        this.follower = next;
        const more = this.apply(next, state);
        if (more === 'reload') return more;
        applied += more;
      } else if (next) {
        next.close();
        return 'reload';
      }
    }
    return applied;
  }

  close(): void {
    this.follower?.close();
    this.follower = undefined;
  }

  /** A journal continues our state if it belongs to the same database and starts at or before where we are. */
  private continues(f: JournalFollower, state: LoadedState): boolean {
    return f.header.dbId === state.dbId && f.header.baseLsn <= state.lastLsn;
  }

  private apply(f: JournalFollower, state: LoadedState): number | 'reload' {
    const parsed = f.readNew();
    this.corruptPolls = parsed.problem === 'corrupt' ? this.corruptPolls + 1 : 0;
    if (this.corruptPolls > CORRUPT_POLLS_TOLERATED) return 'reload';
    const r = replay(state, parsed.records, 0);
    // The writer's retention deletes arrive here too: give the freed pages back once they add up.
    if (r.applied > 0 && Number(state.db.value('PRAGMA freelist_count')) > 2048) state.db.exec('PRAGMA incremental_vacuum');
    return r.error ? 'reload' : r.applied;
  }
}
