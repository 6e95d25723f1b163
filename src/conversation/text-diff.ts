// Line diffs of system prompts and tool schemas, with jsdiff (`diff` on npm, decision 68). Bounded:
// a prompt rewritten from end to end gives one summary instead of a diff as large as both texts.
import { structuredPatch } from 'diff';
import type { DiffHunk, TextChange } from './types';

/** Lines of diff kept per change; a changed system prompt is usually a few lines. */
const MAX_DIFF_LINES = 400;
/** jsdiff gives up past this many edits (it returns undefined) instead of running quadratic. */
const MAX_EDIT_LENGTH = 4000;
const CONTEXT_LINES = 2;

export function diffText(before: string, after: string): TextChange | undefined {
  if (before === after) return undefined;
  const patch = structuredPatch('', '', before, after, '', '', { context: CONTEXT_LINES, maxEditLength: MAX_EDIT_LENGTH });
  if (!patch) return rewritten(before, after);
  const change: TextChange = { added: 0, removed: 0, hunks: [] };
  let kept = 0;
  for (const hunk of patch.hunks) {
    for (const line of hunk.lines) {
      if (line.startsWith('+')) change.added++;
      else if (line.startsWith('-')) change.removed++;
    }
    if (kept + hunk.lines.length > MAX_DIFF_LINES) {
      change.truncated = true;
      continue;
    }
    kept += hunk.lines.length;
    const lines = hunk.lines.filter((l) => !l.startsWith('\\'));
    change.hunks.push({ oldStart: hunk.oldStart, oldLines: hunk.oldLines, newStart: hunk.newStart, newLines: hunk.newLines, lines });
  }
  return change;
}

function rewritten(before: string, after: string): TextChange {
  const oldLines = before.split('\n').length;
  const newLines = after.split('\n').length;
  const hunk: DiffHunk = { oldStart: 1, oldLines, newStart: 1, newLines, lines: [`-(${oldLines} lines)`, `+(${newLines} lines, too different to diff line by line)`] };
  return { added: newLines, removed: oldLines, hunks: [hunk], truncated: true };
}
