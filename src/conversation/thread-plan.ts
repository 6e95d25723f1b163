// Groups a session's segments into threads and links subagents to the tool call that started
// them, by content only (never by order):
//  1. a root whose wire session id a parent's `task` result names (OpenCode `task_id: ses_…`);
//  2. a root whose opening prompt equals a spawning call's `prompt` argument; when several calls
//     share that prompt, the one whose result contains the subagent's final answer;
//  3. what is still ambiguous stays unlinked, with its candidate calls listed.
// Decided from the whole session at view time, so the order in which parallel subagents'
// requests arrive does not matter. Forks follow their root; other roots with the main thread's
// system prompt are the main thread restarting (compaction, /clear).
import type { SessionState } from './session-state';
import type { Segment } from './segment';
import { promptMatches, promptTextAt, type SpawnCall } from './spawn-calls';

export interface ThreadPlan {
  id: string;
  kind: 'main' | 'subagent';
  /** Ordered by start; the first is a root. */
  segments: Segment[];
  parentThreadId?: string;
  parentToolCallId?: string;
  parentToolCallCandidates?: string[];
}

const byStart = (a: Segment, b: Segment) => a.startedAt - b.startedAt || a.seq - b.seq;

/**
 * The segment a thread grows from. A fork that shares no model output with its parent (only the
 * opening message) is a conversation that merely starts the same way, such as two subagents
 * given the same prompt at once; it roots a thread of its own. Other forks follow their parent.
 */
export function threadRoot(segment: Segment): Segment {
  let s = segment;
  while (s.parent && sharesOutput(s.parent.segment, s.parent.length)) s = s.parent.segment;
  return s;
}

function sharesOutput(parent: Segment, length: number): boolean {
  for (let i = 0; i < length; i++) if (parent.item(i).role === 'assistant') return true;
  return false;
}

/** The last assistant text of a lineage: a subagent's final report. */
function finalAnswer(segments: readonly Segment[]): string | undefined {
  for (let s = segments.length - 1; s >= 0; s--) {
    const own = segments[s]!.own;
    for (let i = own.length - 1; i >= 0; i--) {
      const { role, block } = own[i]!;
      if (role === 'assistant' && block.type === 'text' && block.text.trim() !== '') return block.text.trim();
    }
  }
  return undefined;
}

interface RootInfo {
  root: Segment;
  lineage: Segment[];
  prompt?: string;
  link?: SpawnCall | { toolCallId: string; segmentId?: undefined };
  candidates: SpawnCall[];
}

/** A root's opening prompt, once its message is complete (a later message began): it never changes then. */
const firstPrompts = new WeakMap<Segment, string>();

function firstPromptOf(root: Segment): string | undefined {
  const at = root.firstPromptIndex;
  if (at === undefined) return undefined;
  const known = firstPrompts.get(root);
  if (known !== undefined) return known;
  // Read once, not at every view: a spilled prompt would be read back each time (decision 83).
  const prompt = promptTextAt(root, at);
  for (let i = at + 1; i < root.length; i++) {
    if (root.item(i).messageStart) {
      firstPrompts.set(root, prompt);
      break;
    }
  }
  return prompt;
}

export function planThreads(state: SessionState): ThreadPlan[] {
  const roots = new Map<Segment, RootInfo>();
  for (const segment of [...state.segments].sort(byStart)) {
    const root = threadRoot(segment);
    let info = roots.get(root);
    if (!info) {
      const prompt = firstPromptOf(root);
      info = { root, lineage: [], prompt, candidates: [] };
      roots.set(root, info);
    }
    info.lineage.push(segment);
  }
  const rootOfSegment = new Map<string, Segment>();
  for (const segment of state.segments) rootOfSegment.set(segment.id, threadRoot(segment));

  const claimed = new Set<string>();
  for (const info of roots.values()) {
    const childLink = info.root.wireSessionId === undefined ? undefined : state.childLinks.get(info.root.wireSessionId);
    if (childLink !== undefined && info.root.wireSessionId !== state.id) {
      info.link = state.spawns.find((s) => s.toolCallId === childLink) ?? { toolCallId: childLink };
      claimed.add(childLink);
      continue;
    }
    if (info.prompt === undefined) continue;
    const own = (s: SpawnCall) => rootOfSegment.get(s.segmentId) === info.root;
    const exact = state.spawns.filter((s) => !own(s) && promptMatches(info.prompt!, s.key) === 'exact');
    info.candidates = exact.length > 0 ? exact : state.spawns.filter((s) => !own(s) && promptMatches(info.prompt!, s.key) !== undefined);
  }

  // Final answers settle identical prompts; then any root left with a single free candidate.
  const open = [...roots.values()].filter((i) => !i.link && i.candidates.length > 0);
  for (const info of open) {
    const answer = finalAnswer(info.lineage);
    if (answer === undefined) continue;
    const matching = info.candidates.filter((s) => !claimed.has(s.toolCallId) && (state.toolResults.get(s.toolCallId)?.output ?? '').includes(answer));
    if (matching.length === 1) {
      info.link = matching[0]!;
      claimed.add(matching[0]!.toolCallId);
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const info of open) {
      if (info.link) continue;
      const free = info.candidates.filter((s) => !claimed.has(s.toolCallId));
      // Among several, a call whose result is known but does not hold this subagent's answer is
      // not its parent. A single candidate is linked on the prompt alone: clients may reshape
      // the report they pass back.
      const answer = finalAnswer(info.lineage);
      const plausible = free.length === 1 ? free
        : free.filter((s) => answer === undefined || !state.toolResults.has(s.toolCallId) || state.toolResults.get(s.toolCallId)!.output.includes(answer));
      if (plausible.length === 1) {
        info.link = plausible[0]!;
        claimed.add(plausible[0]!.toolCallId);
        changed = true;
      }
    }
  }
  return assemblePlans([...roots.values()], rootOfSegment);
}

function assemblePlans(infos: RootInfo[], rootOfSegment: Map<string, Segment>): ThreadPlan[] {
  const plans: ThreadPlan[] = [];
  const planOfRoot = new Map<Segment, ThreadPlan>();
  let main: ThreadPlan | undefined;
  const isSubagent = (i: RootInfo) => i.link !== undefined || i.candidates.length > 0;
  for (const info of infos) {
    if (!isSubagent(info) && main && (main.segments[0]!.fingerprint === info.root.fingerprint
      || main.segments[0]!.fingerprint === undefined || info.root.fingerprint === undefined)) {
      main.segments.push(...info.lineage);
      planOfRoot.set(info.root, main);
      continue;
    }
    const plan: ThreadPlan = !isSubagent(info) && !main
      ? { id: 'main', kind: 'main', segments: [...info.lineage] }
      : { id: info.link ? `agent:${info.link.toolCallId}` : `thread:${info.root.id.slice(4)}`, kind: 'subagent', segments: [...info.lineage] };
    if (plan.kind === 'main') main = plan;
    if (info.link) plan.parentToolCallId = info.link.toolCallId;
    else if (info.candidates.length > 0) plan.parentToolCallCandidates = info.candidates.map((c) => c.toolCallId);
    planOfRoot.set(info.root, plan);
    plans.push(plan);
  }
  // Parents are resolved once every root has a plan; a candidate list shares a parent only if
  // all its calls sit in the same thread.
  for (const info of infos) {
    const plan = planOfRoot.get(info.root)!;
    if (plan.kind !== 'subagent' || plan.segments[0] !== info.root) continue;
    const spawnSegments = info.link?.segmentId !== undefined ? [info.link.segmentId] : info.candidates.map((c) => c.segmentId);
    const parents = new Set(spawnSegments.map((id) => planOfRoot.get(rootOfSegment.get(id)!)?.id));
    if (parents.size === 1) {
      const parent = [...parents][0];
      if (parent !== undefined) plan.parentThreadId = parent;
    } else if (info.link && main) {
      plan.parentThreadId = main.id;
    }
  }
  for (const plan of plans) plan.segments.sort(byStart);
  return plans.sort((a, b) => (a.kind === 'main' ? -1 : b.kind === 'main' ? 1 : byStart(a.segments[0]!, b.segments[0]!)));
}
