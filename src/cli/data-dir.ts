// Where the headless CLI keeps its CA and captures, unless told otherwise.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LLM_CAPTURE_DATA_DIR) return env.LLM_CAPTURE_DATA_DIR;
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'llm-capture');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'llm-capture');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'llm-capture');
}
