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
  const userId = `user_${'b'.repeat(64)}_account__session_00000000-0000-4000-8000-${String(s).padStart(12, '0')}`;
  return JSON.stringify({ model, max_tokens: 32000, stream: true, metadata: { user_id: userId }, messages });
}
