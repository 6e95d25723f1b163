// Child processes for the bench: every server (the fake upstream and each proxy) runs in its own
// process, so each column pays the same loopback and scheduling costs and none shares the
// client's event loop. Every child is tracked and ended when the bench exits, however it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

export const BENCH_DIR = __dirname;
export const ROOT = join(__dirname, '..');

const live = new Set<ChildProcess>();

export interface Child {
  proc: ChildProcess;
  /** The last lines the child wrote on stderr, for error messages. */
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Returns a value once a stdout line says the child is ready. */
  readyFrom?: (line: string) => unknown;
  timeoutMs?: number;
}

/** Runs a TypeScript entry point under tsx, with the same Node flags for every column. */
export function nodeArgs(entry: string, args: string[] = [], extraFlags: string[] = []): string[] {
  return [...extraFlags, '--import', 'tsx', join(BENCH_DIR, entry), ...args];
}

export async function startChild(command: string, args: string[], options: SpawnOptions = {}): Promise<{ child: Child; ready: unknown }> {
  // stdin stays a pipe: a Node child ends itself when it closes, i.e. when we die.
  const proc = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  let tail = '';
  proc.stderr?.on('data', (d: Buffer) => { tail = (tail + d.toString()).slice(-4000); });
  const child: Child = { proc, stderrTail: () => tail.trim(), stop: () => stopProcess(proc) };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ready = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${command} not ready after ${timeoutMs} ms: ${tail.trim()}`)), timeoutMs);
    let buffered = '';
    let done = false;
    function fail(e: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void stopProcess(proc);
      reject(e);
    }
    proc.on('error', fail);
    proc.on('exit', (code) => fail(new Error(`${command} exited (${code}) before it was ready: ${tail.trim()}`)));
    // Keep reading stdout for the child's whole life, so a chatty child never blocks on a full pipe.
    proc.stdout?.on('data', (d: Buffer) => {
      if (done || !options.readyFrom) return;
      buffered += d.toString();
      let nl: number;
      while (!done && (nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const value = options.readyFrom(line);
        if (value !== undefined) {
          done = true;
          clearTimeout(timer);
          resolve(value);
        }
      }
    });
    if (!options.readyFrom) { done = true; clearTimeout(timer); resolve(undefined); }
  });
  return { child, ready };
}

/** A JSON stdout line, the readiness signal of our own Node children. */
export function jsonLine(line: string): unknown {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM, then waits for the exit (SIGKILL after `killAfterMs`). `mustSucceed`: a recorder that
 * writes its store as it stops; an exit other than 0 then rejects.
 */
export async function stopProcess(proc: ChildProcess, { killAfterMs = 3000, mustSucceed = false } = {}): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
  if (mustSucceed && proc.exitCode !== 0) throw new Error(`process ${proc.pid} stopped with ${proc.exitCode ?? proc.signalCode}`);
}

/** Ends every child still running; safe to call from an 'exit' handler (it only signals). */
export function killAll(): void {
  for (const proc of live) proc.kill('SIGKILL');
}

/** A port that was free a moment ago, for tools that cannot report the one they bound. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until something accepts TCP on 127.0.0.1:port (bounded by timeoutMs). */
export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('process exited while starting');
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}
