// Ending a command without losing output. process.exit() does not wait for stdout: to a pipe or
// socket, Node writes asynchronously, so whatever the reader had not taken yet (all but the first
// 64 KiB of `show --json | jq .`) was dropped. And a reader that stops early (`log | head -1`)
// makes the next write fail with EPIPE, which must end the command quietly, not with a stack trace.

type Output = NodeJS.WriteStream;

/** Resolves once everything written to `stream` so far has been handed to the OS (or cannot be). */
function flushed(stream: Output): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  // Writes are delivered in order, so an empty write's callback comes after all earlier ones.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Exits with `code` once stdout and stderr have delivered everything written to them. */
export async function exitAfterOutput(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/**
 * A reader that went away (EPIPE) ends the command with code 0 and no message: it asked for no
 * more, as `head` does. Any other failure to write the output is exit code 1, said on stderr.
 */
export function exitQuietlyWhenReaderCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      if (stream === process.stdout) process.stderr.write(`llm-capture: cannot write output: ${e.message}\n`);
      process.exit(1);
    });
  }
}
