#!/usr/bin/env node
// Bundles the extension host entry, the CLI and the conversation webview with esbuild.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

// The sql.js wasm is shipped beside the bundles (src/store/sqlite.ts looks there first).
const common = { bundle: true, platform: 'node', target: 'node22', format: 'cjs', sourcemap: true, logLevel: 'warning', external: ['sql.js/dist/sql-wasm.wasm'] };
// Bare `http`, `https`, `net` and `tls` (as ws requires them) become `node:` ones. VS Code's
// extension host hands a bare require a per-extension copy of those modules with its proxy patch
// applied (@vscode/proxy-agent), which src/proxy/plain-request.ts cannot undo on a copy.
const nodeBuiltins = {
  name: 'node-builtins',
  setup(b) {
    b.onResolve({ filter: /^(http|https|net|tls)$/ }, (args) => ({ path: `node:${args.path}`, external: true }));
  },
};
// One `vscode` namespace for the whole bundle. esbuild wraps each module's `import * as vscode` of an
// external in its own __toESM, which copies every key of VS Code's API object: twelve copies were 4–5 ms
// of activation (docs/decisions.md, decision 97). A bundled module that re-exports it is copied once.
const vscodeOnce = {
  name: 'vscode-once',
  setup(b) {
    b.onResolve({ filter: /^vscode$/ }, (args) => args.namespace === 'vscode-once' ? { path: 'vscode', external: true } : { path: 'vscode', namespace: 'vscode-once' });
    b.onLoad({ filter: /.*/, namespace: 'vscode-once' }, () => ({ contents: "export * from 'vscode';", loader: 'js' }));
  },
};
common.plugins = [nodeBuiltins];
mkdirSync('dist', { recursive: true });
copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } });
chmodSync('dist/cli.js', 0o755);
// The proxy's own thread (src/proxy/proxy-thread.ts loads it from beside the bundle that starts it).
await build({ ...common, entryPoints: ['src/proxy/proxy-worker.ts'], outfile: 'dist/proxy-worker.js' });
// The capture engine's thread (src/engine/engine-client.ts loads it from beside the extension's
// bundle): everything but VS Code wiring, so that activation loads none of it.
await build({ ...common, entryPoints: ['src/engine/engine-worker.ts'], outfile: 'dist/engine-worker.js' });
if (existsSync('src/extension/extension.ts')) {
  const result = await build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: [...common.external, 'vscode'], plugins: [...common.plugins, vscodeOnce], metafile: true });
  // Activation loads this bundle: the engine's modules must stay out of it (docs/decisions.md, decision 41).
  const engineInputs = Object.keys(result.metafile.inputs).filter((f) => /^(src\/(store|capture|llm|conversation|demo|har)\/|node_modules\/(sql\.js|node-forge|ws|fzstd)\/)/.test(f));
  if (engineInputs.length > 0) throw new Error(`dist/extension.js would load engine code at activation: ${engineInputs.join(', ')}`);
  const vscodeRequires = readFileSync('dist/extension.js', 'utf8').split('require("vscode")').length - 1;
  if (vscodeRequires !== 1) throw new Error(`dist/extension.js requires vscode ${vscodeRequires} times, not once (decision 97)`);
}
// The conversation webview (webview-ui/): a browser bundle, its styles and the codicon font.
if (existsSync('webview-ui/src/main.ts')) {
  mkdirSync('dist/webview', { recursive: true });
  await build({
    entryPoints: ['webview-ui/src/main.ts'], outfile: 'dist/webview/main.js', bundle: true, platform: 'browser',
    format: 'iife', target: 'es2022', sourcemap: true, minify: true, logLevel: 'warning',
  });
  copyFileSync('webview-ui/src/style.css', 'dist/webview/style.css');
  copyFileSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css');
  copyFileSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf');
}
console.log('built dist/');
