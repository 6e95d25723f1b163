// The process serving capture leaves a note of it in the data directory (`proxy.json`, 0600: it
// holds the terminal token). `llm-capture env` reads it to print the variables without being told
// the port; a second VS Code window reads it to attach to the capture instead of failing on the
// store's writer lock, and to take over on the same port when the serving window closes
// (docs/decisions.md, decision 42).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface ServingNote {
  pid: number;
  hostname?: string;
  port: number;
  proxyUrl: string;
  startedAt: string;
  /** Who serves: the CLI's `proxy` command or a VS Code window (absent in notes of older CLIs). */
  server?: 'cli' | 'vscode';
  /** The window's workspace name, for the status bar of attached windows. */
  window?: string;
  caCertPath?: string;
  caBundlePath?: string;
  /** The password of terminal credentials, so that attached windows' labelled terminals are recognised. */
  token?: string;
  interceptedHosts?: string[];
  /** Set when capture was stopped on purpose (attached windows stop too); absent while it runs. */
  stoppedAt?: string;
  /** Set by an attached window whose user stopped capture: the serving window stops it for all. */
  stopRequestedAt?: string;
}

const NAME = 'proxy.json';

export function writeNote(dataDir: string, note: ServingNote): void {
  // Written aside and renamed: a reader never sees half a note.
  const path = join(dataDir, NAME);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ hostname: hostname(), ...note }, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, path);
}

/** Removes the note if it is this process's. */
export function removeNote(dataDir: string, pid: number): void {
  const note = readNoteFile(dataDir);
  if (note?.pid === pid) rmSync(join(dataDir, NAME), { force: true });
}

/** The note as written, whether its process still runs or not. */
export function readNoteFile(dataDir: string): ServingNote | undefined {
  try {
    const note = JSON.parse(readFileSync(join(dataDir, NAME), 'utf8')) as ServingNote;
    return typeof note.pid === 'number' && typeof note.port === 'number' ? note : undefined;
  } catch {
    return undefined;
  }
}

/** The note of a proxy that is still running (its process is alive and it was not stopped), or undefined. */
export function readNote(dataDir: string): ServingNote | undefined {
  const note = readNoteFile(dataDir);
  return note && note.stoppedAt === undefined && processAlive(note) ? note : undefined;
}

/** Whether the note's process may still run; one on another host counts as alive. */
export function processAlive(note: Pick<ServingNote, 'pid' | 'hostname'>): boolean {
  if (note.hostname !== undefined && note.hostname !== hostname()) return true;
  try {
    process.kill(note.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** What a window does about the note it just read (pure: the controller carries it out). */
export type SharingStep =
  /** Use the capture the note describes (this window is stopped, or follows a window that took over). */
  | { kind: 'attach'; note: ServingNote }
  /** The serving window is gone: serve on the same port. */
  | { kind: 'take-over' }
  /** Capture was stopped on purpose: stop here too (attached), or stop as asked (serving). */
  | { kind: 'stop' }
  | { kind: 'none' };

export interface SharingState {
  role: 'serving' | 'attached' | undefined;
  /** While attached: the pid of the window followed. */
  servedByPid?: number;
  /** The startedAt of a capture this window stopped itself out of: not attached to again. */
  declined?: string;
  pid: number;
}

export function sharingStep(state: SharingState, note: ServingNote | undefined, alive: (note: ServingNote) => boolean = processAlive): SharingStep {
  /** Another window's capture, running. */
  const running = note !== undefined && note.stoppedAt === undefined && note.pid !== state.pid && note.server === 'vscode' && alive(note) ? note : undefined;
  switch (state.role) {
    case undefined:
      return running && running.startedAt !== state.declined && running.stopRequestedAt === undefined ? { kind: 'attach', note: running } : { kind: 'none' };
    case 'serving':
      return note !== undefined && note.pid === state.pid && note.stopRequestedAt !== undefined ? { kind: 'stop' } : { kind: 'none' };
    case 'attached': {
      // Stopped on purpose, by whichever window served it last.
      if (note !== undefined && note.stoppedAt !== undefined) return { kind: 'stop' };
      if (running) return running.pid === state.servedByPid ? { kind: 'none' } : { kind: 'attach', note: running };
      // No note, or its process is gone: the serving window closed (or died).
      return note && note.pid === state.pid ? { kind: 'none' } : { kind: 'take-over' };
    }
  }
}
