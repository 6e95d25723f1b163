// The fake upstream of bench/load-bench.ts in a process of its own, so that its timers and TLS
// never share an event loop with the bench's 1,000 clients (as bench/fake-upstream.ts for run.ts).
//
// Usage: node --import tsx bench/load/fake-child.ts KEY.pem CERT.pem DELTAS GAP_MS
// Prints {"port":N} on stdout once listening on 127.0.0.1; ends on SIGTERM or when stdin closes.
import { readFileSync } from 'node:fs';
import { startLoadUpstream } from '../../test/support/sse-load-upstream';

async function main(): Promise<void> {
  const [keyPath, certPath, deltas, gapMs] = process.argv.slice(2);
  const fake = await startLoadUpstream({
    tls: { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') },
    deltas: Number(deltas), gapMs: Number(gapMs),
  });
  // What was sent is proven by each stream's own digest comment; nothing needs to be kept here.
  setInterval(() => fake.streams.clear(), 1000).unref();
  process.stdout.write(`${JSON.stringify({ port: fake.port })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
