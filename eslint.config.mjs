// @ts-check
import tseslint from 'typescript-eslint';

const VSCODE = { name: 'vscode', message: 'Only src/extension may import vscode.' };
// The pure layers do no I/O, so they can be re-run over stored records whenever their logic improves.
const NO_IO = ['fs', 'fs/promises', 'net', 'tls', 'http', 'https', 'child_process', 'worker_threads']
  .flatMap((m) => [m, `node:${m}`])
  .map((name) => ({ name, message: 'src/llm and src/conversation do no I/O.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '**/node_modules/**', '.ci-out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [VSCODE] }],
    },
  },
  // Each layer's import rule (docs/architecture.md, "Layers"). A later block replaces the rule's
  // options for its files, so each repeats the vscode rule.
  {
    files: ['src/proxy/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [{ group: ['../*'], message: 'src/proxy imports no other layer: it knows nothing of capture, storage or LLMs.' }] }] },
  },
  {
    files: ['src/llm/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE, ...NO_IO], patterns: [{ group: ['../*', '!../capture', '../capture/*', '!../capture/records'], message: 'src/llm is pure: it reads capture records, nothing else.' }] }] },
  },
  {
    files: ['src/conversation/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE, ...NO_IO], patterns: [{ group: ['../*', '!../llm', '!../llm/*'], message: 'src/conversation is pure: it reads LLM calls, nothing else.' }] }] },
  },
  // The OpenTelemetry export reads the assembler's output (types) and talks to a collector: it
  // knows nothing of the proxy, the store or the engine (docs/decisions.md, decision 72).
  {
    files: ['src/telemetry/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [{ group: ['../*', '!../conversation', '../conversation/*', '!../conversation/types', '!../llm', '../llm/*', '!../llm/llm-call'], allowTypeImports: false, message: 'src/telemetry reads the assembler\'s types only.' }] }] },
  },
  // The host's main thread keeps only VS Code wiring: it reaches the capture through the engine's
  // protocol, and may read types (never values) of the layers the engine runs (docs/decisions.md, decision 41).
  {
    files: ['src/extension/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: '../proxy', message: 'src/extension does not run the proxy: the engine does.' }],
        patterns: [
          { group: ['../store', '../store/*', '../capture', '../capture/*', '../llm', '../llm/*', '../demo', '../demo/*', '../har', '../har/*'], message: 'src/extension reaches the capture only through the engine (src/engine/engine-client.ts).' },
          { group: ['../conversation', '../conversation/*'], allowTypeImports: true, message: 'src/extension may read the assembler\'s types, not run it: ask the engine.' },
          { group: ['../engine/*', '!../engine/engine-client', '!../engine/protocol'], message: 'src/extension talks to the engine through its client and protocol only.' },
          { group: ['../proxy/*', '!../proxy/shell-environment', '!../proxy/host-map'], message: 'src/extension does not run the proxy: the engine does.' },
          { group: ['../app/capture-service', '../app/live-sessions', '../app/session-index', '../app/raw-call-view', '../app/har-transfer', '../app/activity', '../app/conversation-view-builder', '../app/view-model-diff', '../app/store-reading', '../app/call-feed'], allowTypeImports: true, message: 'That part of src/app runs in the engine.' },
        ],
      }],
    },
  },
  // The client and the protocol are what the host loads: types only from the layers the engine runs.
  {
    files: ['src/engine/engine-client.ts', 'src/engine/protocol.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [{ group: ['../*', '../../src/*', '!../proxy', '../proxy/*', '!../proxy/worker-script'], allowTypeImports: true, message: 'The host loads this module: it may import types only, so the engine\'s code stays out of extension.js.' }] }] },
  },
  {
    files: ['webview-ui/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [{ group: ['../../src/*', '!../../src/shared'], message: 'The webview imports only src/shared, the modules both sides of the message boundary use.' }] }] },
  },
);
