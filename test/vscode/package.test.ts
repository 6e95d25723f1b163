// Packaging: `vsce package` turns the built dist/ into a .vsix of only what runs (under
// 5 MB, the sql.js wasm inside, no sources, no node_modules), and a real VS Code (code-server
// 4.139.1 = VS Code 1.139.1) installs it with `--install-extension`. The installed CLI then opens
// a store from the installed folder alone, which proves the bundles and the wasm need nothing else.
// vsce runs with the arguments of the `package` npm script on the dist/ that `npm run build` made
// (rebuilding here would race the other tests that read dist/); the .vsix goes to a temp folder.
// Skips unless `npm run build` ran (and, for the install, test/vscode/install.sh);
// LLM_CAPTURE_REQUIRE_VSCODE=1 makes that a failure (CI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { extensionManifest, makeSandbox, type Sandbox } from './code-server';
import { CODE_SERVER_DIR, NODE24, REPO_ROOT, vscodeGate } from './harness';

const run = promisify(execFile);
const MAX_BYTES = 5 * 1024 * 1024;
const VSCE = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
const RUNTIME_FILES = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/cli.js',
  'extension/dist/proxy-worker.js',
  'extension/dist/engine-worker.js',
  'extension/dist/sql-wasm.wasm',
  'extension/dist/webview/main.js',
  'extension/dist/webview/style.css',
  'extension/dist/webview/codicon.css',
  'extension/dist/webview/codicon.ttf',
];

function packagingProblem(): string | undefined {
  if (!existsSync(VSCE)) return '@vscode/vsce is not installed: run `npm ci`';
  for (const f of RUNTIME_FILES) {
    const built = f.replace(/^extension\//, '');
    if (!existsSync(join(REPO_ROOT, built))) return `${built} is missing: run \`npm run build\` first`;
  }
  return undefined;
}

const problem = packagingProblem();
const required = process.env.LLM_CAPTURE_REQUIRE_VSCODE === '1';
const packSkip = problem && !required ? `packaging test skipped: ${problem}` : false;
const vscode = vscodeGate();

interface ZipEntry {
  name: string;
  size: number;
}

/** The entries of a zip file, from its central directory (no unzip needed). */
function zipEntries(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file} has no zip end-of-central-directory record`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, `bad central directory entry ${n} in ${file}`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    out.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), size: buf.readUInt32LE(p + 24) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** `vsce package …` as the `package` npm script runs it, with the output redirected to `out`. */
function vsceArgs(out: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const m = /^npm run build && vsce (package(?: \S+)*)$/.exec(scripts.package ?? '');
  assert.ok(m, `the package script should be "npm run build && vsce package …", is ${JSON.stringify(scripts.package)}`);
  const args = m[1].split(' ');
  const o = args.indexOf('--out');
  assert.ok(o > 0 && o + 1 < args.length, 'the package script names its output with --out');
  args.splice(o, 2, '--out', out);
  return args;
}

describe('the .vsix package', { skip: packSkip, timeout: 5 * 60_000 }, () => {
  const manifest = extensionManifest();
  let work = '';
  let vsix = '';
  let packaged = false;
  let sandbox: Sandbox | undefined;

  before(() => {
    if (problem) throw new Error(`${problem} (LLM_CAPTURE_REQUIRE_VSCODE=1 makes this a failure)`);
    work = mkdtempSync(join(tmpdir(), 'llm-capture-vsix-'));
    vsix = join(work, `${manifest.name}-${manifest.version}.vsix`);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true, maxRetries: 5 });
    if (sandbox) rmSync(sandbox.root, { recursive: true, force: true, maxRetries: 5 });
  });

  test('vsce packages only what runs, under 5 MB, with the sql.js wasm', async () => {
    const started = Date.now();
    // HOME in the temp folder: vsce must need nothing from the user's setup (nor the network:
    // `npm test` runs as root in a loopback-only namespace).
    const home = join(work, 'home');
    mkdirSync(home);
    const { stdout } = await run(process.execPath, [VSCE, ...vsceArgs(vsix)], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, NO_COLOR: '1' },
      timeout: 3 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.match(stdout, /Packaged: /);
    packaged = true;
    const size = statSync(vsix).size;
    assert.ok(size < MAX_BYTES, `the .vsix is ${size} bytes, over 5 MB`);

    const entries = zipEntries(vsix);
    const names = entries.map((e) => e.name);
    for (const f of RUNTIME_FILES) assert.ok(names.includes(f), `${f} is missing from the .vsix: ${names.join(', ')}`);
    const wasm = entries.find((e) => e.name === 'extension/dist/sql-wasm.wasm');
    assert.equal(wasm?.size, statSync(join(REPO_ROOT, 'dist', 'sql-wasm.wasm')).size, 'the packaged wasm is the built one');
    for (const n of names) {
      // docs/images (the README's screenshots) is the one part of docs/ that ships.
      assert.doesNotMatch(n.replace(/^extension\/docs\/images\//, ''), /(^|\/)(src|test|bench|docs|scripts|webview-ui|node_modules|\.vscode|\.ci)\//, `${n} should not be packaged`);
      assert.doesNotMatch(n, /\.(map|ts|vsix)$/, `${n} should not be packaged`);
    }
    // Only what runs, plus the manifest, the readme and the licence.
    const allowed = /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|LICENSE\.txt|changelog\.md|media\/.+|docs\/images\/[^/]+\.png|dist\/(extension\.js|cli\.js|proxy-worker\.js|engine-worker\.js|sql-wasm\.wasm|webview\/[^/]+\.(js|css|ttf))))$/;
    for (const n of names) assert.match(n, allowed, `${n} is not a file the extension runs`);
    console.log(`# ${vsix}: ${size} bytes, ${names.length} entries, packaged in ${Date.now() - started} ms`);
  });

  test('a real VS Code installs it, and the installed CLI runs from its folder alone', { skip: vscode.skip }, async () => {
    vscode.check();
    assert.ok(packaged, 'the previous test did not package the .vsix');
    const box = (sandbox = makeSandbox('vsix'));
    const codeServer = (...args: string[]) =>
      run(NODE24, [join(CODE_SERVER_DIR, 'out', 'node', 'entry.js'), '--extensions-dir', box.extensionsDir, '--user-data-dir', box.userDataDir, ...args], {
        cwd: box.root,
        env: box.env,
        timeout: 2 * 60_000,
      });

    const installed = await codeServer('--install-extension', vsix);
    assert.match(installed.stdout, /successfully installed/, installed.stdout + installed.stderr);
    const listed = await codeServer('--list-extensions', '--show-versions');
    const id = `${manifest.publisher}.${manifest.name}`;
    assert.ok(listed.stdout.split('\n').map((l) => l.trim()).includes(`${id}@${manifest.version}`), `${id}@${manifest.version} is not listed:\n${listed.stdout}`);

    const dir = join(box.extensionsDir, `${id}-${manifest.version}`);
    for (const f of RUNTIME_FILES) assert.ok(existsSync(join(dir, f.replace(/^extension\//, ''))), `${f} is not in ${dir}`);
    assert.deepEqual(readFileSync(join(dir, 'dist', 'sql-wasm.wasm')), readFileSync(join(REPO_ROOT, 'dist', 'sql-wasm.wasm')));
    const registry = JSON.parse(readFileSync(join(box.extensionsDir, 'extensions.json'), 'utf8')) as { identifier: { id: string }; version: string }[];
    assert.ok(registry.some((e) => e.identifier.id === id && e.version === manifest.version), 'extensions.json records the extension');

    // The installed folder sits in a temp folder with no node_modules above it: the demo runs the
    // proxy on its worker thread and stores into sql.js, so this fails unless the bundle finds
    // proxy-worker.js and the wasm beside it.
    const data = join(box.root, 'data');
    const cli = join(dir, 'dist', 'cli.js');
    const opts = { cwd: box.root, env: box.env, timeout: 60_000 };
    await run(process.execPath, [cli, 'demo', '--data-dir', data], opts);
    assert.ok(existsSync(join(data, 'capture.sqlite')), 'the installed CLI created its store');
    const sessions = await run(process.execPath, [cli, 'sessions', '--json', '--data-dir', data], opts);
    assert.deepEqual((JSON.parse(sessions.stdout) as { client: string }[]).map((x) => x.client).sort(), ['claude-code', 'codex']);
  });
});
