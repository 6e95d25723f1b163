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
  { files: ['src/extension/**'], rules: { 'no-restricted-imports': 'off' } },
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
  {
    files: ['webview-ui/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [{ group: ['../../src/*', '!../../src/shared'], message: 'The webview imports only src/shared, the modules both sides of the message boundary use.' }] }] },
  },
);
