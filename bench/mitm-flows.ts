// mitmproxy's flow file (`mitmdump -w FILE`), read just enough to count what it wrote.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Counts the flows of a mitmproxy flow file: a sequence of tnetstrings (`LEN:DATA` + one type byte). */
export function countFlows(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const head = Buffer.alloc(24);
    let at = 0;
    let flows = 0;
    while (at < size) {
      const got = readSync(fd, head, 0, head.length, at);
      const colon = head.subarray(0, got).indexOf(0x3a);
      const length = Number(head.subarray(0, colon).toString('latin1'));
      if (colon <= 0 || !Number.isInteger(length)) throw new Error(`${path}: no tnetstring at byte ${at}`);
      at += colon + 1 + length + 1;
      flows++;
    }
    if (at !== size) throw new Error(`${path}: the last flow is cut short`);
    return flows;
  } finally {
    closeSync(fd);
  }
}
