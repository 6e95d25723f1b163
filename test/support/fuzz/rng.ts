// A seeded random source for fuzz cases: the same seed gives the same cases on every machine, so
// a failure in CI is reproduced by its seed and case number alone.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** mulberry32: small, fast and good enough to pick mutations (not for anything secret). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** `data` cut into 1 to `maxPieces` pieces at random points. */
  split(data: Buffer, maxPieces: number): Buffer[] {
    const cuts = new Set<number>();
    const count = this.int(0, Math.min(maxPieces - 1, Math.max(0, data.length - 1)));
    for (let i = 0; i < count; i++) cuts.add(this.int(1, data.length - 1));
    const points = [0, ...[...cuts].sort((a, b) => a - b), data.length];
    const pieces: Buffer[] = [];
    for (let i = 1; i < points.length; i++) pieces.push(data.subarray(points[i - 1], points[i]));
    return pieces.filter((p) => p.length > 0);
  }
}
