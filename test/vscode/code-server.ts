// Starts a real VS Code (code-server 4.139.1 = VS Code 1.139.1, on Node 24) on 127.0.0.1 with
// everything it writes (HOME, XDG dirs, TMPDIR, user data, extensions) inside one temp folder,
// and the extension installed by copying its built folder, as a user's install would place it.
// The server runs detached in its own process group, so that stop() ends it together with its
// extension host and the terminals' shells.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_SERVER_DIR, NODE24, REPO_ROOT } from './harness';

export const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'security.workspace.trust.enabled': false,
  // With the GPU renderer off, .xterm-rows holds the terminal's text.
  'terminal.integrated.gpuAcceleration': 'off',
  'terminal.integrated.defaultProfile.linux': 'bash',
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export interface Sandbox {
  root: string;
  home: string;
  tmp: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  /** Environment for a process that must keep everything inside the sandbox. */
  env: NodeJS.ProcessEnv;
}

/** A fresh temp folder with HOME, XDG_* and TMPDIR, user settings and an empty workspace. */
export function makeSandbox(prefix: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), `llm-capture-${prefix}-`));
  const dir = (...p: string[]) => {
    const d = join(root, ...p);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const home = dir('home');
  const tmp = dir('tmp');
  const userDataDir = dir('user-data');
  const extensionsDir = dir('extensions');
  const workspace = dir('workspace');
  writeFileSync(join(dir('user-data', 'User'), 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: dir('xdg', 'config'),
    XDG_DATA_HOME: dir('xdg', 'data'),
    XDG_CACHE_HOME: dir('xdg', 'cache'),
    XDG_STATE_HOME: dir('xdg', 'state'),
    XDG_RUNTIME_DIR: dir('xdg', 'runtime'),
    SHELL: '/bin/bash',
    // code-server's extension gallery (open-vsx.org) is pointed at a closed loopback port, so
    // that it never dials out even where the tests are not network-isolated.
    EXTENSIONS_GALLERY: JSON.stringify({
      serviceUrl: 'http://127.0.0.1:9/gallery',
      itemUrl: 'http://127.0.0.1:9/item',
      resourceUrlTemplate: 'http://127.0.0.1:9/resource/{publisher}/{name}/{version}/{path}',
    }),
  };
  return { root, home, tmp, userDataDir, extensionsDir, workspace, env };
}

export interface ExtensionManifest {
  publisher: string;
  name: string;
  version: string;
}

export function extensionManifest(): ExtensionManifest {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as ExtensionManifest;
}

/** The extension's id, `publisher.name`. */
export function extensionId(): string {
  const m = extensionManifest();
  return `${m.publisher}.${m.name}`;
}

/** Copies the built extension (package.json + dist/) into `parent/<publisher>.<name>-<version>`. */
export function copyBuiltExtension(parent: string): string {
  const m = extensionManifest();
  const target = join(parent, `${m.publisher}.${m.name}-${m.version}`);
  mkdirSync(target, { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(target, 'package.json'));
  cpSync(join(REPO_ROOT, 'dist'), join(target, 'dist'), { recursive: true });
  for (const extra of ['README.md', 'LICENSE', 'media', 'resources']) {
    try {
      cpSync(join(REPO_ROOT, extra), join(target, extra), { recursive: true });
    } catch {
      // optional
    }
  }
  return target;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  port: number;
  /** The server's process (the leader of its group). */
  pid: number;
  sandbox: Sandbox;
  /** Everything the server printed. */
  logFile: string;
  /** Kills the process group and removes the sandbox (unless keep). */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/** Starts `node` (Node 24) with args, detached in its own process group, logging to a file. */
export function spawnGroup(args: string[], env: NodeJS.ProcessEnv, logFile: string, cwd: string): ChildProcess {
  const log = createWriteStream(logFile);
  const child = spawn(NODE24, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // If the test process dies without stop(), the detached group must not outlive it.
  const reap = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', reap);
  return child;
}

/** pid and all its descendants, from /proc (Linux). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends the server: its process group and every descendant (VS Code starts the extension host and
 * the terminals' shells in groups and sessions of their own), SIGTERM first, then SIGKILL.
 * Resolves once all of them are gone, so that nothing writes into the sandbox afterwards.
 */
export async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = processTree(pid).filter((p) => p !== pid);
  const alive = () => signal(-pid, 0) || tree.some((p) => signal(p, 0));
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    signal(-pid, sig);
    for (const p of tree) signal(p, sig);
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!alive()) return;
  }
}

/** Polls url until it answers 200; fails early if the child exits. */
export async function waitForHttp200(url: string, child: ChildProcess, logFile: string, timeoutMs = 120_000): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`server ${exited} before ${url} answered:\n${readLog(logFile)}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${readLog(logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

export interface CodeServerOptions {
  /** User settings beside USER_SETTINGS (for example the extension's). */
  settings?: Record<string, unknown>;
  /** Environment beside the sandbox's; terminals inherit it. */
  env?: NodeJS.ProcessEnv;
}

/** code-server with the built extension installed, ready when /healthz answers 200. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<RunningServer> {
  return startCodeServerIn(prepareSandbox('code-server', options));
}

/** A sandbox with the built extension installed and the settings written, for a server not started yet. */
export function prepareSandbox(prefix: string, options: CodeServerOptions = {}): Sandbox {
  const sandbox = makeSandbox(prefix);
  if (options.settings) {
    writeFileSync(join(sandbox.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...USER_SETTINGS, ...options.settings }, null, 2));
  }
  Object.assign(sandbox.env, options.env);
  copyBuiltExtension(sandbox.extensionsDir);
  return sandbox;
}

/** code-server on a prepared sandbox (which the caller may have filled further), ready when /healthz answers 200. */
export async function startCodeServerIn(sandbox: Sandbox): Promise<RunningServer> {
  const port = await freePort();
  const config = join(sandbox.root, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFile = join(sandbox.root, 'code-server.log');
  const entry = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
  const child = spawnGroup(
    [
      entry,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', sandbox.userDataDir,
      '--extensions-dir', sandbox.extensionsDir,
      '--config', config,
      sandbox.workspace,
    ],
    sandbox.env,
    logFile,
    sandbox.root,
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp200(`${url}/healthz`, child, logFile);
  } catch (e) {
    await killGroup(child);
    throw e;
  }
  return {
    url,
    port,
    pid: child.pid as number,
    sandbox,
    logFile,
    async stop(options) {
      await killGroup(child);
      if (!options?.keep) rmSync(sandbox.root, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
