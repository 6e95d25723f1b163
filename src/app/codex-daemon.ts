// The Codex TUI hands model traffic to a background `codex app-server --managed-daemon` that keeps
// the environment it was started with (docs/extension.md, "Terminals"). One started before capture bypasses the proxy.
// Best effort, Linux only: reads /proc; anywhere else, or on any error, finds nothing.
import { promises as fsp } from 'node:fs';

export interface DaemonProcess {
  pid: number;
  /** Milliseconds since the epoch, when /proc tells. */
  startedAt?: number;
  /** The HTTPS_PROXY in its environment ('' when none), or undefined when the environment is unreadable. */
  httpsProxy?: string;
}

/** True for the command line (NUL-separated /proc cmdline) of a Codex managed app-server daemon. */
export function isCodexDaemon(cmdline: string): boolean {
  const args = cmdline.split('\0').filter((a) => a.length > 0);
  return args.some((a) => /(^|\/)codex(\.js)?$/.test(a) || /codex/.test(a)) && args.includes('app-server') && args.includes('--managed-daemon');
}

/** A daemon that will not go through the proxy at `proxyUrl` (host:port compared, credentials ignored). */
export function bypassesProxy(d: DaemonProcess, proxyUrl: string, captureStartedAt: number): boolean {
  if (d.httpsProxy !== undefined) return hostPort(d.httpsProxy) !== hostPort(proxyUrl);
  return d.startedAt !== undefined && d.startedAt < captureStartedAt;
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export async function findCodexDaemons(proc = '/proc'): Promise<DaemonProcess[]> {
  if (process.platform !== 'linux') return [];
  try {
    const bootTime = await readBootTime(proc);
    const out: DaemonProcess[] = [];
    for (const name of await fsp.readdir(proc)) {
      if (!/^\d+$/.test(name)) continue;
      const cmdline = await fsp.readFile(`${proc}/${name}/cmdline`, 'latin1').catch(() => '');
      if (!isCodexDaemon(cmdline)) continue;
      const d: DaemonProcess = { pid: Number(name) };
      const stat = await fsp.readFile(`${proc}/${name}/stat`, 'latin1').catch(() => '');
      // Field 22 (starttime, in clock ticks after boot), counted after the parenthesised command name.
      const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      if (bootTime !== undefined && Number.isFinite(ticks)) d.startedAt = bootTime + (ticks / 100) * 1000;
      const environ = await fsp.readFile(`${proc}/${name}/environ`, 'latin1').catch(() => undefined);
      if (environ !== undefined) {
        const entry = environ.split('\0').find((e) => e.startsWith('HTTPS_PROXY=')) ?? environ.split('\0').find((e) => e.startsWith('https_proxy='));
        d.httpsProxy = entry ? entry.slice(entry.indexOf('=') + 1) : '';
      }
      out.push(d);
    }
    return out;
  } catch {
    return [];
  }
}

async function readBootTime(proc: string): Promise<number | undefined> {
  const stat = await fsp.readFile(`${proc}/stat`, 'latin1').catch(() => '');
  const m = /^btime (\d+)$/m.exec(stat);
  return m ? Number(m[1]) * 1000 : undefined;
}
