// One session's file, written a little at each save (docs/decisions.md, decision 85). Its pieces
// (each thread, each turn and call insight of a thread, and each long text) are deflated and
// appended to a pieces file; a small skeleton, written anew at each save, says where they are.
// A save appends only what is new: a piece by its encoded text (in which a long text is only
// where it is stored), a long text by its reader, so that a text the assembly keeps in its spill
// file is read back once, not at every save. Writing every changed session whole read every text
// back and wrote it again, at each save.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Where a record is in the pieces file: offset, length, crc32 of its deflated bytes. */
export type Loc = [number, number, number];
type Path = (string | number)[];
/** A value left out of a piece (null where it stands), stored elsewhere: a text ('t') or a piece ('p'). */
type Ref = [Path, 't' | 'p', ...Loc];
export interface PieceRecord {
  v: unknown;
  r: Ref[];
}

/** What stands where in a session's detail: the levels at which its pieces are cut. */
type Level = 'detail' | 'thread' | 'leaf';

/** As the chunk store's: a small window keeps zlib's state below glibc's mmap threshold. */
const DEFLATE = { level: 1, windowBits: 13, memLevel: 7 };
/** The event loop gets a turn at least this often while a session is encoded. */
const YIELD_EVERY_MS = 10;

/** What the writer remembers of a session's pieces file: what is in it, and how much of it is still used. */
export class PiecesFileState {
  size = 0;
  /** Bytes the last skeleton refers to. */
  live = 0;
  readonly texts = new WeakMap<object, Loc>();
  readonly pieces = new Map<string, Loc>();

  constructor(readonly name: string) {}

  /** Worth writing anew: most of it is pieces no skeleton refers to any more. */
  get wasteful(): boolean {
    return this.size > 1024 * 1024 && this.size > 3 * this.live;
  }
}

/**
 * Encodes a session's detail against its pieces file: records that are new go to `pending` (to be
 * appended in order), and the skeleton's root piece is returned. Synchronous; `yieldEvery` lets
 * the caller give the event loop a turn between pieces.
 */
export class SessionFileEncoder {
  readonly pending: Buffer[] = [];
  private readonly used = new Set<number>();
  private live = 0;

  constructor(private readonly state: PiecesFileState) {}

  private lastYield = performance.now();

  /** The detail's root record (kept in the skeleton, not appended). */
  async root(detail: object): Promise<PieceRecord> {
    const refs: Ref[] = [];
    const v = await this.encode(detail, [], refs, 'detail');
    return { v, r: refs };
  }

  /** Bytes the skeleton being made refers to (each record counted once). */
  get liveBytes(): number {
    return this.live;
  }

  private async encode(value: unknown, path: Path, refs: Ref[], level: Level): Promise<unknown> {
    if (value === null || typeof value !== 'object' || !isPlainOrArray(value)) return value;
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (let i = 0; i < value.length; i++) items.push(await this.child(value[i], [...path, i], refs, level));
      return items;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      if (descriptor.get) {
        // A spilled text (or one derived from it): stored once, found again by its reader.
        const loc = this.text(descriptor.get);
        if (loc === undefined) continue;
        refs.push([[...path, key], 't', ...loc]);
        out[key] = null;
        continue;
      }
      out[key] = await this.child(descriptor.value, [...path, key], refs, level);
    }
    return out;
  }

  private async child(value: unknown, path: Path, refs: Ref[], level: Level): Promise<unknown> {
    const next = pieceBelow(level, path);
    if (next === undefined || value === null || typeof value !== 'object') return this.encode(value, path, refs, level);
    refs.push([path, 'p', ...(await this.piece(value, next))]);
    return null;
  }

  private async piece(value: object, level: Level): Promise<Loc> {
    // A session of thousands of turns: the engine's other work goes on between its pieces.
    if (performance.now() - this.lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
    }
    const refs: Ref[] = [];
    const record: PieceRecord = { v: await this.encode(value, [], refs, level), r: refs };
    const json = JSON.stringify(record);
    const key = createHash('sha256').update(json).digest('base64').slice(0, 22);
    let loc = this.state.pieces.get(key);
    if (!loc) {
      loc = this.append(json);
      this.state.pieces.set(key, loc);
    }
    return this.use(loc);
  }

  private text(read: () => unknown): Loc | undefined {
    let loc = this.state.texts.get(read);
    if (!loc) {
      const json = JSON.stringify(read());
      if (json === undefined) return undefined;
      loc = this.append(json);
      this.state.texts.set(read, loc);
    }
    return this.use(loc);
  }

  private append(json: string): Loc {
    const deflated = deflateRawSync(Buffer.from(json, 'utf8'), DEFLATE);
    const loc: Loc = [this.state.size, deflated.length, crc32(deflated)];
    this.state.size += deflated.length;
    this.pending.push(deflated);
    return loc;
  }

  private use(loc: Loc): Loc {
    if (!this.used.has(loc[0])) {
      this.used.add(loc[0]);
      this.live += loc[1];
    }
    return loc;
  }
}

/**
 * Below a detail, each thread is a piece; below a thread, each turn and each call insight, and its
 * tool definitions (tens of KB for a coding agent, the same in most threads: stored once).
 */
function pieceBelow(level: Level, path: Path): Level | undefined {
  if (level === 'thread' && path.length === 1 && path[0] === 'toolDefinitions') return 'leaf';
  if (path.length < 2) return undefined;
  const [parent, index] = path.slice(-2);
  if (typeof index !== 'number') return undefined;
  if (level === 'detail' && path.length === 2 && parent === 'threads') return 'thread';
  if (level === 'thread' && path.length === 2 && (parent === 'turns' || parent === 'calls')) return 'leaf';
  return undefined;
}

function isPlainOrArray(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

export class SessionFileError extends Error {}

/** Reads the records a skeleton's root refers to, and puts the value together. */
export async function decodeRoot(root: PieceRecord, file: FileHandle): Promise<unknown> {
  const reader = new RecordReader(file);
  return reader.resolve(root);
}

class RecordReader {
  constructor(private readonly file: FileHandle) {}

  async resolve(record: PieceRecord): Promise<unknown> {
    if (!record || typeof record !== 'object' || !Array.isArray(record.r)) throw new SessionFileError('a piece is not a piece');
    let value = record.v;
    for (const ref of record.r) {
      const [path, kind, ...loc] = ref;
      const inner = JSON.parse(await this.read(loc as Loc)) as unknown;
      const resolved = kind === 'p' ? await this.resolve(inner as PieceRecord) : inner;
      value = setAt(value, path, resolved);
    }
    return value;
  }

  private async read([offset, length, crc]: Loc): Promise<string> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) throw new SessionFileError('a record is out of range');
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.file.read(buffer, 0, length, offset);
    if (bytesRead !== length || crc32(buffer) !== crc) throw new SessionFileError(`the record at ${offset} is damaged or missing`);
    return inflateRawSync(buffer).toString('utf8');
  }
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  let target = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) {
    target = target?.[step] as Record<string | number, unknown>;
    if (target === null || typeof target !== 'object') throw new SessionFileError('a reference points nowhere');
  }
  target[path[path.length - 1]!] = value;
  return root;
}
