// The content that links a subagent to the tool call that started it: the spawning call's
// prompt argument (equal to the subagent's first prompt), the call's result (holding the
// subagent's final answer), and OpenCode's `task_id: ses_…` (the child session's wire id).
import type { ContentBlock } from '../llm/llm-call';
import { canonicalArguments } from './content-hash';
import type { History } from './history';
import { isRealPrompt, promptKey } from './scaffolding';
import { detached } from './spilled-text';

/**
 * Tools that start a subagent, and the argument holding its prompt: Claude Code's `Agent`
 * (formerly `Task`), OpenCode's `task`.
 */
export const SPAWN_TOOLS: Readonly<Record<string, string>> = { Agent: 'prompt', Task: 'prompt', task: 'prompt' };

/** A spawning tool call found in a history. */
export interface SpawnCall {
  toolCallId: string;
  toolName: string;
  prompt: string;
  key: string;
  /** Segment id and position where the call sits. */
  segmentId: string;
  index: number;
  /** When the call that made it started (a subagent it spawned starts after). */
  at: number;
}

/** The prompt a spawning tool call hands to its subagent, if `block` is one. */
export function spawnPromptOf(block: ContentBlock): string | undefined {
  if (block.type !== 'tool-call') return undefined;
  const field = SPAWN_TOOLS[block.name];
  if (!field) return undefined;
  let input = block.input;
  if (input === undefined) {
    try {
      input = JSON.parse(canonicalArguments(block));
    } catch {
      return undefined;
    }
  }
  if (input === null || typeof input !== 'object') return undefined;
  const prompt = (input as Record<string, unknown>)[field];
  return typeof prompt === 'string' && prompt.trim() !== '' ? prompt : undefined;
}

const CHILD_SESSION = /\btask_id:\s*(ses_[A-Za-z0-9]+)/g;

/** OpenCode child session ids named in a `task` tool result. */
export function childSessionIdsIn(output: string): string[] {
  if (!output.includes('task_id:')) return [];
  // Detached: the ids are kept (links, aliases), the output they were cut from must not be.
  return [...output.matchAll(CHILD_SESSION)].map((m) => detached(m[1]!));
}

/**
 * The prompt text of the user message holding the real prompt at `index`: its real text blocks
 * joined (scaffolding blocks in the same message are left out).
 */
export function promptTextAt(history: History, index: number): string {
  const parts: string[] = [];
  for (let i = index; i < history.length; i++) {
    const entry = history.entry(i);
    if (i > index && entry.messageStart) break;
    if (!isRealPrompt(entry.role, entry.block)) continue;
    parts.push(entry.block.type === 'text' ? entry.block.text : '[image]');
  }
  return parts.join('\n\n');
}

/**
 * Whether a subagent's opening prompt is the one a spawning call handed over. Exact (after
 * trimming) first; a client that wraps the prompt still contains it whole.
 */
export function promptMatches(subagentPrompt: string, spawnKey: string): 'exact' | 'contains' | undefined {
  const key = promptKey(subagentPrompt);
  if (key === spawnKey) return 'exact';
  if (spawnKey.length >= 20 && key.includes(spawnKey)) return 'contains';
  return undefined;
}
