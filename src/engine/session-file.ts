// One session's file, written a little at each save (docs/decisions.md, decision 85). Its pieces
// (each thread; each turn, call insight and tool definition list of a thread; each long text) are
// appended to a pieces file, deflated in batches; a small skeleton, written anew at each save,
// says where they are. A save appends only what is new: a piece is found by its encoded text (in
// which a long text is only where it is stored), a long text by its reader, so that a text the
// assembly keeps in its spill file is read back once, not at every save. Written whole, every
// changed session was read back and compressed again at each save.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { sameValue } from '../conversation/same-value';

/**
 * Where a record is: the offset of its batch in the pieces file, and its bytes in the batch once
 * inflated. A batch is a header (the deflated length and its crc32, 4 bytes each) and the
 * deflated records of about BATCH_BYTES.
 */
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
/**
 * Records are deflated together, about this much at a time: deflated one by one (thousands a save,
 * a zlib state each), one run at 1 GB left the main C heap at 90 MB, against 50 batched.
 */
const BATCH_BYTES = 256 * 1024;
const BATCH_HEADER = 8;
/** Batches a reader keeps inflated: a detail's records come mostly in the order they were written. */
const READ_CACHE = 8;
/** The event loop gets a turn at least this often while a session is encoded. */
const YIELD_EVERY_MS = 10;

/** A leaf piece as last saved: the value, where it is, and the texts it refers to (counted live with it). */
interface Leaf {
  value: object;
  loc: Loc;
  texts: Loc[];
}

/** What the writer remembers of a session's pieces file: what is in it, and how much of it is still used. */
export class PiecesFileState {
  /** Bytes in the file. */
  size = 0;
  /** Bytes of records appended, and of those the last skeleton refers to (uncompressed both). */
  recorded = 0;
  live = 0;
  readonly texts = new WeakMap<object, Loc>();
  readonly pieces = new Map<string, Loc>();
  /**
   * The turns, call insights and tool definitions of the last save, by their place in the detail,
   * with where each is: one that is equal now (most of a session that grew) is not encoded again.
   */
  leaves = new Map<string, Leaf>();

  constructor(readonly name: string) {}

  /** Worth writing anew: most of it is pieces no skeleton refers to any more. */
  get wasteful(): boolean {
    return this.recorded > 1024 * 1024 && this.recorded > 2 * this.live;
  }
}

/**
 * Encodes a session's detail against its pieces file: batches of new records go to `pending` (to be
 * appended in order), and the skeleton's root piece is returned.
 */
export class SessionFileEncoder {
  readonly pending: Buffer[] = [];
  private readonly used = new Set<Loc>();
  /** This save's leaves by place, for the next save (PiecesFileState.leaves). */
  private readonly leaves = new Map<string, Leaf>();
  /** Pieces serialised in this save, and leaves kept as the last save had them. */
  encoded = 0;
  kept = 0;
  /** The texts the leaf being encoded refers to. */
  private leafTexts: Loc[] | undefined;
  private live = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private lastYield = performance.now();

  constructor(private readonly state: PiecesFileState) {}

  /** The detail's root record (kept in the skeleton, not appended). */
  async root(detail: object): Promise<PieceRecord> {
    const refs: Ref[] = [];
    const v = await this.encodeLevel(detail, 'detail', refs, '');
    this.flush();
    this.state.leaves = this.leaves;
    return { v, r: refs };
  }

  /** Bytes of records the skeleton being made refers to (each counted once). */
  get liveBytes(): number {
    return this.live;
  }

  /**
   * A detail or a thread: its threads (or turns, call insights and tool definitions) become pieces
   * of their own, with a turn for the event loop between them; the rest is encoded in place.
   */
  private async encodeLevel(value: object, level: 'detail' | 'thread', refs: Ref[], place: string): Promise<unknown> {
    if (!isPlainOrArray(value) || Array.isArray(value)) return this.encode(value, [], refs);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      const v: unknown = descriptor.value;
      const below = level === 'detail' ? 'thread' : 'leaf';
      if (!descriptor.get && Array.isArray(v) && (level === 'detail' ? key === 'threads' : key === 'turns' || key === 'calls')) {
        const items: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (item !== null && typeof item === 'object') {
            refs.push([[key, i], 'p', ...(await this.piece(item, below, `${place}/${key}/${i}`))]);
            items.push(null);
          } else {
            items.push(this.encode(item, [key, i], refs));
          }
        }
        out[key] = items;
      } else if (!descriptor.get && level === 'thread' && key === 'toolDefinitions' && v !== null && typeof v === 'object') {
        // Tens of KB for a coding agent, and the same in most threads: stored once.
        refs.push([[key], 'p', ...(await this.piece(v, 'leaf', `${place}/${key}`))]);
        out[key] = null;
      } else {
        this.field(key, descriptor, [], refs, out);
      }
    }
    return out;
  }

  private encode(value: unknown, path: Path, refs: Ref[]): unknown {
    if (value === null || typeof value !== 'object' || !isPlainOrArray(value)) return value;
    if (Array.isArray(value)) return value.map((v, i) => this.encode(v, [...path, i], refs));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) this.field(key, Object.getOwnPropertyDescriptor(value, key)!, path, refs, out);
    return out;
  }

  private field(key: string, descriptor: PropertyDescriptor, path: Path, refs: Ref[], out: Record<string, unknown>): void {
    if (descriptor.get) {
      // A spilled text (or one derived from it): stored once, found again by its reader.
      const loc = this.text(descriptor.get);
      if (loc === undefined) return;
      refs.push([[...path, key], 't', ...loc]);
      out[key] = null;
      return;
    }
    out[key] = this.encode(descriptor.value, [...path, key], refs);
  }

  /** `place`: where the piece stands in the detail (`/threads/0/turns/12`). */
  private async piece(value: object, level: Level, place: string): Promise<Loc> {
    // A session of thousands of turns: the engine's other work goes on between its pieces.
    if (performance.now() - this.lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
    }
    if (level === 'leaf') {
      // Equal to what stood here at the last save: a walk over shared strings instead of
      // serialising and hashing it again (a save of a long session was mostly that).
      const last = this.state.leaves.get(place);
      if (last && sameValue(last.value, value)) {
        // The new value kept, not the old: the assembler holds this one (its current detail).
        this.leaves.set(place, { ...last, value });
        this.kept++;
        for (const text of last.texts) this.use(text);
        return this.use(last.loc);
      }
    }
    const refs: Ref[] = [];
    const texts: Loc[] = [];
    this.leafTexts = level === 'leaf' ? texts : undefined;
    const v = level === 'leaf' ? this.encode(value, [], refs) : await this.encodeLevel(value, level, refs, place);
    this.leafTexts = undefined;
    const json = JSON.stringify({ v, r: refs } satisfies PieceRecord);
    this.encoded++;
    const key = createHash('sha256').update(json).digest('base64').slice(0, 22);
    let loc = this.state.pieces.get(key);
    if (!loc) {
      loc = this.append(json);
      this.state.pieces.set(key, loc);
    }
    if (level === 'leaf') this.leaves.set(place, { value, loc, texts });
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
    this.leafTexts?.push(loc);
    return this.use(loc);
  }

  /** Adds a record to the batch being made; the batch starts where the file will end once the ones before are written. */
  private append(json: string): Loc {
    const bytes = Buffer.from(json, 'utf8');
    const loc: Loc = [this.state.size, this.batchBytes, bytes.length];
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
    this.state.recorded += bytes.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
    return loc;
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const deflated = deflateRawSync(this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes), DEFLATE);
    const header = Buffer.allocUnsafe(BATCH_HEADER);
    header.writeUInt32LE(deflated.length, 0);
    header.writeUInt32LE(crc32(deflated), 4);
    this.pending.push(header, deflated);
    this.state.size += BATCH_HEADER + deflated.length;
    this.batch = [];
    this.batchBytes = 0;
  }

  private use(loc: Loc): Loc {
    if (!this.used.has(loc)) {
      this.used.add(loc);
      this.live += loc[2];
    }
    return loc;
  }
}

function isPlainOrArray(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

class SessionFileError extends Error {}

/** Reads the records a skeleton's root refers to, and puts the value together. */
export async function decodeRoot(root: PieceRecord, file: FileHandle): Promise<unknown> {
  const reader = new RecordReader(file);
  return reader.resolve(root);
}

class RecordReader {
  private readonly batches = new Map<number, Buffer>();

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

  private async read([offset, start, length]: Loc): Promise<string> {
    const batch = await this.batch(offset);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > batch.length) {
      throw new SessionFileError(`a record of the batch at ${offset} is out of range`);
    }
    return batch.toString('utf8', start, start + length);
  }

  private async batch(offset: number): Promise<Buffer> {
    const cached = this.batches.get(offset);
    if (cached) return cached;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new SessionFileError('a batch is out of range');
    const header = Buffer.alloc(BATCH_HEADER);
    if ((await this.file.read(header, 0, BATCH_HEADER, offset)).bytesRead !== BATCH_HEADER) throw new SessionFileError(`the batch at ${offset} is missing`);
    const deflated = Buffer.allocUnsafe(header.readUInt32LE(0));
    const { bytesRead } = await this.file.read(deflated, 0, deflated.length, offset + BATCH_HEADER);
    if (bytesRead !== deflated.length || crc32(deflated) !== header.readUInt32LE(4)) throw new SessionFileError(`the batch at ${offset} is damaged or cut short`);
    const batch = inflateRawSync(deflated);
    this.batches.set(offset, batch);
    if (this.batches.size > READ_CACHE) this.batches.delete(this.batches.keys().next().value as number);
    return batch;
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
