// The segment file format: where chunk bytes live on disk, outside the sql.js database.
// Files sit beside the snapshot as `capture.sqlite.NNNNNN.seg`: whatever lists or clears the
// store's files by their `capture.sqlite.*` names (src/app/capture-files.ts) takes them along.
//
// File:   header = magic "LLMCSEG1" | version (u32 LE) | segment number (u32 LE) | database id (16 bytes)
//         record = length (u32 LE, of data) | crc32 (u32 LE, of data) | data (a stored chunk)
// A segment is only ever appended to, by the writer that created it; the database row of a chunk
// says where its record starts. A record cut short by a crash, or whose crc does not match, is
// detected on read and never returned.
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('LLMCSEG1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 32;
export const SEGMENT_RECORD_HEADER = 8;
/** Segments roll at about this size; a record never spans two files. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Where a chunk's stored bytes are: segment number, offset of its record, length of its data. */
export interface ChunkLocation {
  segment: number;
  offset: number;
  storedSize: number;
}

export interface SegmentHeader {
  segment: number;
  dbId: string;
}

export function segmentFileName(segment: number): string {
  return `capture.sqlite.${String(segment).padStart(6, '0')}.seg`;
}

export function segmentPath(dir: string, segment: number): string {
  return join(dir, segmentFileName(segment));
}

/** The segment number of a file name, or undefined for anything else (temp files, files set aside). */
export function parseSegmentFileName(name: string): number | undefined {
  const m = /^capture\.sqlite\.(\d{6,})\.seg$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_SIZE);
  MAGIC.copy(b, 0);
  b.writeUInt32LE(SEGMENT_VERSION, 8);
  b.writeUInt32LE(h.segment, 12);
  const hex = h.dbId.replace(/-/g, '');
  if (/^[0-9a-f]{32}$/i.test(hex)) Buffer.from(hex, 'hex').copy(b, 16);
  return b;
}

export function decodeSegmentHeader(b: Buffer): SegmentHeader | undefined {
  if (b.length < SEGMENT_HEADER_SIZE || !b.subarray(0, 8).equals(MAGIC) || b.readUInt32LE(8) !== SEGMENT_VERSION) return undefined;
  const h = b.subarray(16, 32).toString('hex');
  return { segment: b.readUInt32LE(12), dbId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

/** A record's header; the data follows it as it is (written with it by one writev, never copied). */
export function encodeSegmentRecordHeader(data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(SEGMENT_RECORD_HEADER);
  b.writeUInt32LE(data.length, 0);
  b.writeUInt32LE(crc32(data), 4);
  return b;
}

/** The data of a record read at a chunk's location; throws with the reason when it is not intact. */
export function decodeSegmentRecord(record: Buffer, loc: ChunkLocation): Buffer {
  const where = `${segmentFileName(loc.segment)} at ${loc.offset}`;
  if (record.length < SEGMENT_RECORD_HEADER + loc.storedSize) throw new Error(`${where}: the record is cut short (the file ends early)`);
  if (record.readUInt32LE(0) !== loc.storedSize) throw new Error(`${where}: the record length does not match`);
  const data = record.subarray(SEGMENT_RECORD_HEADER, SEGMENT_RECORD_HEADER + loc.storedSize);
  if (crc32(data) !== record.readUInt32LE(4)) throw new Error(`${where}: the record fails its crc32`);
  return data;
}
