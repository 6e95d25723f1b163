// Sessions as the assembler last made them, kept on disk beside the store (`derived/`): an index of
// every session's summary, and each session's detail: a skeleton, gzipped, and the pieces it
// refers to, appended to a pieces file a save at a time (session-file.ts). Reopening VS Code lists
// every session from the index at once and opens any of them from its file, while the engine rebuilds
// the live assembly from the raw exchanges in the background (docs/decisions.md, decision 43).
// Derived data only: a file that is missing, damaged, of another format or assembler version, or
// made from another database is ignored and written again; nothing is lost by deleting it.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gunzip } from 'node:zlib';
import { ASSEMBLER_VERSION } from '../conversation/version';
import type { AssemblyResume } from '../conversation/assembler';
import type { SessionDetail, SessionSummary } from '../conversation/types';
import { joinedPieces, jsonPieces } from './json-pieces';
import { decodeRoot, PiecesFileState, SessionFileEncoder, type PieceRecord } from './session-file';

const gunzipAsync = promisify(gunzip);

/** Bumped when the files change shape. */
const FORMAT = 1;
/**
 * Levels of a file's JSON written piece by piece (detail, threads, a thread, its turns, a turn,
 * its steps): below them each piece is one step, or one session summary of the index.
 */
const PIECE_DEPTH = 6;
/**
 * Pieces are joined up to about this many characters before they go to gzip, whose output comes in
 * chunks of GZIP_CHUNK bytes. Each chunk is a trip to the thread pool and back through a busy event
 * loop: with 64 KB pieces and zlib's 16 KB chunks a save took half as long again as written whole.
 */
const PIECE_CHARS = 512 * 1024;
const GZIP_CHUNK = 256 * 1024;
/** Session details read back, kept for the next request (a panel asks several times). */
const CACHE = 4;
/** Sessions whose pieces files the writer remembers; one it forgot is written whole at its next save. */
const PIECES_STATES = 64;
const WRITEV_BUFFERS = 256;
/** A session's file from decision 85 on: a skeleton that says where its pieces are. */
const SESSION_FILE = 2;

/** A pieces file's name: the session's file name, and a random part that a new one changes. */
const PIECES_NAME = /^[0-9a-f]{24}\.[0-9a-f]{12}\.pieces$/;

interface Skeleton {
  sessionFile: number;
  id: string;
  version: number;
  pieces: string;
  root: PieceRecord;
}

export const DERIVED_DIR = 'derived';

/** Which database the index was made from: its newest exchange then. */
/** What a save did (decision 100): pieces serialised, and leaves kept as the save before wrote them. */
export interface SaveCounts {
  encoded: number;
  kept: number;
}

export interface StoreMark {
  lastExchangeId: number;
  lastStartedAt: number;
}

/**
 * The assembly the index was made from, to go on from without reading its exchanges again
 * (decision 94): every exchange up to `afterExchangeId` had been read, whole but for `open`.
 */
export interface SavedAssembly {
  afterExchangeId: number;
  assembly: AssemblyResume;
  /**
   * Exchanges up to `afterExchangeId` that were still open, read in part or not at all (a Codex
   * WebSocket stays open for a whole session): a reopen reads again from the first of them.
   */
  open?: number[];
}

interface IndexFile extends StoreMark {
  format: number;
  assemblerVersion: number;
  calls: number;
  sessions: SessionSummary[];
  /** Absent in files written before decision 94 (and, before decision 96, when an exchange was still open). */
  resume?: SavedAssembly;
  writtenAt: string;
}

export interface LoadedIndex {
  sessions: SessionSummary[];
  calls: number;
  /** The newest exchange the index was made with: anything newer is not in it. */
  lastExchangeId: number;
  resume?: SavedAssembly;
}

export class DerivedSessions {
  private readonly dir: string;
  private readonly cache = new Map<string, SessionDetail>();
  /** What this writer appended to each session's pieces file, least recently saved first. */
  private readonly piecesFiles = new Map<string, PiecesFileState>();
  /** Pieces files replaced at the last save: deleted at the next, once readers have moved on. */
  private retired: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** The index file, read (once) as soon as it is wanted: while the store opens, not after. */
  private indexRead: Promise<IndexFile | undefined> | undefined;

  constructor(readonly dataDir: string) {
    this.dir = join(dataDir, DERIVED_DIR);
  }

  /** Starts reading the index file; load() checks it against the store once that is open. */
  prefetch(): this {
    this.indexRead ??= readGzipJson<IndexFile>(join(this.dir, 'index.json.gz')).catch(() => undefined);
    return this;
  }

  /**
   * The index, if it is of this format and assembler version and was made from this database
   * (`exchangeStartedAt` of its newest exchange still matches); otherwise undefined.
   */
  async load(exchangeStartedAt: (id: number) => number | undefined): Promise<LoadedIndex | undefined> {
    const index = await this.prefetch().indexRead;
    // Read once: a later load (the store opened again) reads the file as it is then.
    this.indexRead = undefined;
    if (!index) return undefined;
    if (index.format !== FORMAT || index.assemblerVersion !== ASSEMBLER_VERSION || !Array.isArray(index.sessions)) return undefined;
    if (exchangeStartedAt(index.lastExchangeId) !== index.lastStartedAt) return undefined;
    const resume = wellFormedResume(index.resume, index.lastExchangeId);
    return { sessions: index.sessions, calls: index.calls, lastExchangeId: index.lastExchangeId, ...(resume ? { resume } : {}) };
  }

  /** A session's detail as last written, or undefined; `cache: false` keeps it out of the cache (a check, not a view). */
  async detail(sessionId: string, cache = true): Promise<SessionDetail | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached) return cached;
    try {
      const read = await readGzipJson<SessionDetail | Skeleton>(this.file(sessionId));
      const detail = 'sessionFile' in read ? await this.fromPieces(read, sessionId) : read;
      if (!detail || detail.id !== sessionId || detail.assemblerVersion !== ASSEMBLER_VERSION) return undefined;
      if (!cache) return detail;
      this.cache.set(sessionId, detail);
      while (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value as string);
      return detail;
    } catch {
      return undefined;
    }
  }

  /**
   * Writes the details of `changed` sessions, then the index of all of them (so an index never
   * names a session whose file is older than it). One write at a time; each file atomically.
   * A detail is not changed once given (the assembler makes a new one at each change): a turn
   * equal to the one saved in its place last time is not encoded again. Resolves with how many
   * pieces this save serialised and how many leaves it kept as they were.
   */
  save(mark: StoreMark, calls: number, sessions: SessionSummary[], changed: Iterable<SessionDetail>, resume?: SavedAssembly): Promise<SaveCounts> {
    const details = [...changed];
    // After a failed save too: one write that failed (a full disk) must not stop every later one.
    const saved = this.writing.catch(() => undefined).then(async () => {
      await fsp.mkdir(join(this.dir, 'sessions'), { recursive: true });
      const retired = this.retired;
      this.retired = [];
      for (const name of retired) await fsp.rm(join(this.dir, 'sessions', name), { force: true });
      const counts: SaveCounts = { encoded: 0, kept: 0 };
      for (const d of details) {
        this.cache.delete(d.id);
        const { encoded, kept } = await this.writeSession(d);
        counts.encoded += encoded;
        counts.kept += kept;
      }
      const index: IndexFile = {
        format: FORMAT, assemblerVersion: ASSEMBLER_VERSION, ...mark, calls, sessions, ...(resume ? { resume } : {}), writtenAt: new Date().toISOString(),
      };
      await this.writeAtomic(join(this.dir, 'index.json.gz'), index);
      return counts;
    });
    this.writing = saved.then(() => undefined);
    return saved;
  }

  /**
   * The session left the engine's memory: its turns as last saved are let go (the next save of
   * it, if it comes back, encodes them again). Its pieces file stays known, to append to.
   */
  setAside(sessionId: string): void {
    const state = this.piecesFiles.get(sessionId);
    if (state) state.leaves = new Map();
  }

  /**
   * Deletes the files of sessions no longer in the index (merged away, or gone with retention),
   * and pieces files that no skeleton of this writer's refers to any more.
   */
  async prune(keep: ReadonlySet<string>): Promise<void> {
    await this.writing.catch(() => undefined);
    // A session merged away or gone: what this writer remembers of its file (and of its turns) goes too.
    for (const id of [...this.piecesFiles.keys()]) if (!keep.has(id)) this.piecesFiles.delete(id);
    const wanted = new Map([...keep].map((id) => [fileName(id), this.piecesFiles.get(id)?.name]));
    const names = await fsp.readdir(join(this.dir, 'sessions')).catch((): string[] => []);
    for (const name of names) {
      const skeleton = `${name.split('.')[0]}.json.gz`;
      // A pieces file is kept while its session is, unless this writer has replaced it; a session
      // this writer has not saved keeps its pieces files (its next save retires the old one).
      // Anything else (a temporary file a crash left) goes.
      const used = name === skeleton ? wanted.has(name) : PIECES_NAME.test(name) && wanted.has(skeleton) && (wanted.get(skeleton) ?? name) === name;
      if (!used) await fsp.rm(join(this.dir, 'sessions', name), { force: true });
    }
  }

  private file(sessionId: string): string {
    return join(this.dir, 'sessions', fileName(sessionId));
  }

  /**
   * Appends what is new of a session to its pieces file, then writes its skeleton (atomically):
   * a skeleton refers only to bytes written before it. A pieces file mostly unused, or one this
   * writer does not know (written by another process, or forgotten), is replaced by a new one.
   */
  private async writeSession(detail: SessionDetail): Promise<SaveCounts> {
    let state = this.piecesFiles.get(detail.id);
    this.piecesFiles.delete(detail.id);
    // Gone under it (the capture was cleared): what it remembers of the file is wrong now.
    if (state && !(await fsp.stat(join(this.dir, 'sessions', state.name)).catch(() => undefined))) state = undefined;
    let replaced: string | undefined;
    if (!state || state.wasteful) {
      replaced = state ? state.name : await this.piecesNameOnDisk(detail.id);
      state = new PiecesFileState(`${fileName(detail.id).split('.')[0]}.${randomBytes(6).toString('hex')}.pieces`);
    }
    const encoder = new SessionFileEncoder(state);
    const start = state.size;
    const root = await encoder.root(detail);
    const path = join(this.dir, 'sessions', state.name);
    const file = await fsp.open(path, start === 0 ? 'wx' : 'r+', 0o600);
    try {
      let position = start;
      // A few hundred buffers a call: one writev takes at most IOV_MAX (1,024) of them.
      for (let i = 0; i < encoder.pending.length; i += WRITEV_BUFFERS) {
        const group = encoder.pending.slice(i, i + WRITEV_BUFFERS);
        const bytes = group.reduce((n, b) => n + b.length, 0);
        const { bytesWritten } = await file.writev(group, position);
        if (bytesWritten !== bytes) throw new Error(`${path}: ${bytesWritten} of ${bytes} bytes written`);
        position += bytes;
      }
    } finally {
      await file.close();
    }
    const skeleton: Skeleton = { sessionFile: SESSION_FILE, id: detail.id, version: ASSEMBLER_VERSION, pieces: state.name, root };
    await this.writeAtomic(this.file(detail.id), skeleton);
    state.live = encoder.liveBytes;
    // Only once both are written: a failed save forgets the file, and the next writes a new one.
    this.piecesFiles.set(detail.id, state);
    while (this.piecesFiles.size > PIECES_STATES) this.piecesFiles.delete(this.piecesFiles.keys().next().value as string);
    if (replaced) this.retired.push(replaced);
    return { encoded: encoder.encoded, kept: encoder.kept };
  }

  /** The pieces file the session's skeleton on disk names, if any (a previous writer's). */
  private async piecesNameOnDisk(sessionId: string): Promise<string | undefined> {
    try {
      const read = await readGzipJson<Partial<Skeleton>>(this.file(sessionId));
      return typeof read.pieces === 'string' && PIECES_NAME.test(read.pieces) ? read.pieces : undefined;
    } catch {
      return undefined;
    }
  }

  /** A detail from its skeleton and pieces file; undefined when they do not make one. */
  private async fromPieces(skeleton: Skeleton, sessionId: string): Promise<SessionDetail | undefined> {
    if (skeleton.sessionFile !== SESSION_FILE || skeleton.id !== sessionId || skeleton.version !== ASSEMBLER_VERSION) return undefined;
    if (typeof skeleton.pieces !== 'string' || !PIECES_NAME.test(skeleton.pieces)) return undefined;
    const file = await fsp.open(join(this.dir, 'sessions', skeleton.pieces), 'r');
    try {
      return (await decodeRoot(skeleton.root, file)) as SessionDetail;
    } finally {
      await file.close();
    }
  }

  /**
   * Writes `value` as gzipped JSON to a temporary file, renamed over `path` once complete. The JSON
   * is streamed a piece at a time: never one string or buffer of the whole (decision 81).
   */
  private async writeAtomic(path: string, value: object): Promise<void> {
    const temp = `${path}.${process.pid}.tmp`;
    try {
      await pipeline(
        Readable.from(joinedPieces(jsonPieces(value, PIECE_DEPTH), PIECE_CHARS)),
        createGzip({ level: 1, chunkSize: GZIP_CHUNK }),
        createWriteStream(temp, { mode: 0o600 }),
      );
      await fsp.rename(temp, path);
    } catch (e) {
      await fsp.rm(temp, { force: true });
      throw e;
    }
  }
}

/** The saved assembly if it has the shape this build writes (a damaged one is ignored, not trusted). */
function wellFormedResume(value: unknown, lastExchangeId: number): SavedAssembly | undefined {
  const r = value as Partial<SavedAssembly> | undefined;
  const a = r?.assembly;
  if (!r || typeof r.afterExchangeId !== 'number' || r.afterExchangeId > lastExchangeId || !a) return undefined;
  if (r.open !== undefined && !(Array.isArray(r.open) && r.open.every((id) => Number.isInteger(id) && id <= r.afterExchangeId!))) return undefined;
  const strings = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === 'string');
  const sessionsOk = Array.isArray(a.sessions) && a.sessions.every((c) => typeof c?.id === 'string' && strings(c.callIds) && typeof c.idSource === 'string'
    && strings(c.mergedIds) && typeof c.anonymous === 'boolean');
  const aliasesOk = Array.isArray(a.aliases) && a.aliases.every((p) => Array.isArray(p) && p.length === 2 && strings(p));
  const countsOk = Array.isArray(a.anonymousCount) && a.anonymousCount.every((p) => Array.isArray(p) && typeof p[0] === 'string' && Number.isInteger(p[1]));
  return sessionsOk && aliasesOk && countsOk ? r as SavedAssembly : undefined;
}

function fileName(sessionId: string): string {
  return `${createHash('sha256').update(sessionId).digest('hex').slice(0, 24)}.json.gz`;
}

async function readGzipJson<T>(path: string): Promise<T> {
  return JSON.parse((await gunzipAsync(await fsp.readFile(path))).toString('utf8')) as T;
}
