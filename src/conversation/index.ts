// The conversation assembler's public surface. Pure: LLM calls in, plain data out.
export { Assembler, assemble, type AddResult, type AssemblyResume, type ColdSessionRecord } from './assembler';
export { cacheLine, cacheSummaryLine, causeWords, changeLine, diffBody } from './insight-text';
export { formatCost, formatUsage, renderMarkdownTranscript, type MarkdownOptions } from './markdown-transcript';
export { costOf, findPrice, normalizeModelId, PRICE_TABLE, PRICES_AS_OF, type PriceEntry, type TokenPrices } from './pricing';
export { SCAFFOLDING_PATTERNS, scaffoldingKind, SIDE_REQUEST_PATTERNS, sideRequestKind } from './scaffolding';
export { SPAWN_TOOLS } from './spawn-calls';
export { isSpilled, SPILL_MIN_CHARS, type TextSpill } from './spilled-text';
export { callCost, callUsage } from './usage';
export { ASSEMBLER_VERSION, needsRebuild } from './version';
export type * from './types';
