// The version of the assembly logic. Everything the assembler derives (sessions, threads,
// turns, costs) is stored with the version that made it; a store holding an older version
// rebuilds it from the LLM calls, which are kept. Bump it whenever a change to src/conversation
// (or the price table) would give a different result for the same calls.
export const ASSEMBLER_VERSION = 7;

/** True when data derived by `storedVersion` must be rebuilt by this assembler. */
export function needsRebuild(storedVersion: number | undefined): boolean {
  return storedVersion !== ASSEMBLER_VERSION;
}
