// The CLI runs on the Node it was started with, not the one VS Code ships: an older Node than we
// support and test on (package.json engines.node, docs/decisions.md) gets one clear line instead
// of whatever breaks first.
import { engines } from '../../package.json';

/** The minimum of a `>=X.Y.Z` range, as [major, minor, patch]. */
function minimum(range: string): number[] {
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!m) throw new Error(`engines.node "${range}" is not of the form >=X.Y.Z`);
  return m.slice(1).map(Number);
}

/** Undefined when `version` (e.g. "22.15.0") is supported; otherwise what to tell the user. */
export function unsupportedNode(version: string, range = engines.node): string | undefined {
  const want = minimum(range);
  const have = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if (have[i] > want[i]) return undefined;
    if (have[i] < want[i]) return `llm-capture needs Node ${want.join('.')} or newer; this is Node ${version}`;
  }
  return undefined;
}
