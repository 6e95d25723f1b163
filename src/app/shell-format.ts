// Formatting the proxy variables for a POSIX shell (the CLI's `env` and the extension's
// "Copy Environment for an External Terminal").

/** POSIX shell `export` lines, single-quoted so that no value is expanded. */
export function formatEnvironment(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'\n`).join('');
}
