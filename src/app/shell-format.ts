// Formatting the proxy variables for a POSIX shell (the CLI's `env` and the extension's
// "Copy Environment for an External Terminal").

/** POSIX shell `export` lines, single-quoted so that no value is expanded. */
export function formatEnvironment(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `export ${k}=${singleQuoted(v)}\n`).join('');
}

/** One shell word: bare when it is plainly safe, single-quoted otherwise (nothing expands). */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : singleQuoted(text);
}

function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
