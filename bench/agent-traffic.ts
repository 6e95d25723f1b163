// The requests the extension and memory benches push: like a coding agent's, each resends its
// session's growing history (so the store's dedup and the assembler see what real traffic gives them).

/**
 * Request `i` of a push over `sessions` sessions of about `perSession` requests each: session
 * `i % sessions` resends its own stretch of `pool` (~680 KB, growing by ~1.5 KB a request, cut into
 * 4 KB messages) and adds a new 1 KB prompt.
 */
export function historyRequestBody(pool: string, i: number, sessions: number, perSession: number, model: string, rotate = false): string {
  // Rotating, slot i % sessions starts a new session every perSession calls.
  const s = rotate ? (i % sessions) + sessions * Math.floor(Math.floor(i / sessions) / perSession) : i % sessions;
  const k = rotate ? Math.floor(i / sessions) % perSession : Math.floor(i / sessions);
  const historyBytes = Math.round(680 * 1024 + (k - perSession / 2) * 1536);
  const base = (s * 397_331) % (pool.length - 800 * 1024);
  const messages: { role: string; content: string }[] = [];
  for (let off = 0; off < historyBytes; off += 4096) {
    messages.push({ role: messages.length % 2 ? 'assistant' : 'user', content: pool.slice(base + off, base + Math.min(off + 4096, historyBytes)) });
  }
  const prompt = (i * 104_729) % (pool.length - 2048);
  messages.push({ role: 'user', content: `Request ${i}: ${pool.slice(prompt, prompt + 1024)}` });
  return JSON.stringify({ model, max_tokens: 32000, stream: true, metadata: { user_id: sessionUserId(s) }, messages });
}

/** Where the fake's answer to call `k` of session `s` starts in `pool` (extending traffic): client and fake agree on it. */
export function answerOffset(pool: string, s: number, k: number, answerChars: number): number {
  return ((s * 1_009 + k) * 7_919 * 37) % (pool.length - answerChars);
}

/**
 * Request `i` of extending traffic, as an agent sends it: session `i % sessions` resends what it
 * has said since its last compaction (an 8 KB summary, then each earlier call's prompt and the
 * fake's answer to it, `answerChars` of text), then a new prompt. Every `compactEvery` calls it
 * compacts: the next request starts again from a new summary. With `sessionCalls`, each slot
 * starts a new session every `sessionCalls` calls. Returns the body and the call's key
 * (`s:k`), which the client sends as `x-bench-call` so that the fake answers with `answerOffset`'s text.
 */
export function extendingRequestBody(pool: string, i: number, sessions: number, compactEvery: number, model: string, answerChars: number, sessionCalls = 0): { body: string; call: string } {
  const round = Math.floor(i / sessions);
  const s = sessionCalls > 0 ? (i % sessions) + sessions * Math.floor(round / sessionCalls) : i % sessions;
  const k = sessionCalls > 0 ? round % sessionCalls : round;
  const epoch = Math.floor(k / compactEvery);
  const summary = (s * 397_331 + epoch * 131_071) % (pool.length - 16 * 1024);
  const messages: { role: string; content: string }[] = [
    { role: 'user', content: `Summary of the conversation so far: ${pool.slice(summary, summary + 8192)}` },
    { role: 'assistant', content: 'Understood.' },
  ];
  const prompt = (j: number) => {
    const at = ((s * 1_009 + j) * 104_729) % (pool.length - 2048);
    return `Request ${s}.${j}: ${pool.slice(at, at + 1024)}`;
  };
  for (let j = epoch * compactEvery; j < k; j++) {
    const at = answerOffset(pool, s, j, answerChars);
    messages.push({ role: 'user', content: prompt(j) }, { role: 'assistant', content: pool.slice(at, at + answerChars) });
  }
  messages.push({ role: 'user', content: prompt(k) });
  return { body: JSON.stringify({ model, max_tokens: 32000, stream: true, metadata: { user_id: sessionUserId(s) }, messages }), call: `${s}:${k}` };
}

/** Claude Code's metadata.user_id, which names its session (the assembler keys sessions by it). */
function sessionUserId(s: number): string {
  return `user_${'b'.repeat(64)}_account__session_00000000-0000-4000-8000-${String(s).padStart(12, '0')}`;
}
