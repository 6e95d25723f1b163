// Per-million-token list prices for the models the captured clients use, with their source and
// date. A model that is not in the table, or a request beyond a tier whose price is not known,
// gets no cost at all: a missing cost is visible, a wrong one is not.
//
// Matching is by model id family: the id is normalised (gateway prefixes like `openai/` or
// `anthropic.` and `[1m]` suffixes removed), then an entry matches when the id equals one of its
// ids or adds only a snapshot date (`-20250929`, `-2025-08-07`, `@20250514`), a Bedrock version
// (`-v1:0`) or `-latest`. So `gpt-5` never prices `gpt-5.5` or `gpt-5-pro`, and `claude-opus-4`
// never prices `claude-opus-4-7`: each has its own entry or none.

export interface TokenPrices {
  /** USD per million uncached input tokens. */
  input: number;
  output: number;
  cacheRead: number;
  /** Cache writes at the 5-minute rate (the wire does not say which TTL was written). */
  cacheWrite: number;
}

export interface PriceEntry {
  ids: readonly string[];
  prices: TokenPrices;
  /** Prompts (input + cache reads + writes) above this size are billed at `prices` of the tier. */
  longContext?: { aboveTokens: number; prices?: TokenPrices };
  source: string;
  /** When the figures were transcribed. */
  asOf: string;
  /** How the figures were checked, when not against the source page itself. */
  note?: string;
}

const ANTHROPIC = 'https://platform.claude.com/docs/en/about-claude/pricing';
const OPENAI = 'https://developers.openai.com/api/docs/pricing';
const GOOGLE = 'https://ai.google.dev/gemini-api/docs/pricing';
/**
 * When these figures were transcribed. The Anthropic rows were checked against the pricing
 * page's table; the others carry a `note` saying how far they were checked.
 */
export const PRICES_AS_OF = '2026-11-24';

const anthropic = (input: number, output: number): TokenPrices => ({ input, output, cacheRead: input * 0.1, cacheWrite: input * 1.25 });
const openai = (input: number, cacheRead: number, output: number): TokenPrices => ({ input, output, cacheRead, cacheWrite: 0 });
const google = (input: number, cacheRead: number, output: number): TokenPrices => ({ input, output, cacheRead, cacheWrite: 0 });

function entry(ids: string[], prices: TokenPrices, source: string, longContext?: PriceEntry['longContext'], note?: string): PriceEntry {
  return { ids, prices, source, asOf: PRICES_AS_OF, ...(longContext ? { longContext } : {}), ...(note ? { note } : {}) };
}

const SECONDARY = 'taken from secondary sources quoting the page (the page itself was not read); verify';
const RECALLED = 'list prices as known to the author, not re-read from the page on asOf; verify';

export const PRICE_TABLE: readonly PriceEntry[] = [
  // Anthropic: cache reads 0.1x input, 5-minute cache writes 1.25x input. Opus 4.5+ and Sonnet
  // 4.6 have no long-context tier in the table; Sonnet 4 / 4.5 above 200K prompt tokens do.
  entry(['claude-opus-4-8'], anthropic(5, 25), ANTHROPIC),
  entry(['claude-opus-4-7'], anthropic(5, 25), ANTHROPIC),
  entry(['claude-opus-4-6'], anthropic(5, 25), ANTHROPIC),
  entry(['claude-opus-4-5'], anthropic(5, 25), ANTHROPIC),
  entry(['claude-opus-4-1'], anthropic(15, 75), ANTHROPIC),
  entry(['claude-opus-4', 'claude-opus-4-0'], anthropic(15, 75), ANTHROPIC),
  entry(['claude-sonnet-4-6'], anthropic(3, 15), ANTHROPIC),
  entry(['claude-sonnet-4-5'], anthropic(3, 15), ANTHROPIC, { aboveTokens: 200_000, prices: anthropic(6, 22.5) }),
  entry(['claude-sonnet-4', 'claude-sonnet-4-0'], anthropic(3, 15), ANTHROPIC, { aboveTokens: 200_000, prices: anthropic(6, 22.5) }),
  entry(['claude-haiku-4-5'], anthropic(1, 5), ANTHROPIC),
  entry(['claude-3-5-haiku'], { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 }, ANTHROPIC),
  // OpenAI: no charge for cache writes. Above 272K input tokens the 1M-context models switch to
  // long-context rates that are not transcribed here, so such requests get no cost.
  entry(['gpt-5', 'gpt-5-codex', 'gpt-5-chat'], openai(1.25, 0.125, 10), OPENAI),
  entry(['gpt-5-mini'], openai(0.25, 0.025, 2), OPENAI, undefined, SECONDARY),
  entry(['gpt-5-nano'], openai(0.05, 0.005, 0.4), OPENAI),
  entry(['gpt-5.1', 'gpt-5.1-codex', 'gpt-5.1-codex-max', 'gpt-5.1-chat'], openai(1.25, 0.125, 10), OPENAI, undefined, RECALLED),
  entry(['gpt-5.1-codex-mini'], openai(0.25, 0.025, 2), OPENAI, undefined, RECALLED),
  entry(['gpt-5.2', 'gpt-5.2-codex', 'gpt-5.3-codex', 'gpt-5.2-chat'], openai(1.75, 0.175, 14), OPENAI, undefined, SECONDARY),
  entry(['gpt-5.4'], openai(2.5, 0.25, 15), OPENAI, { aboveTokens: 272_000 }, SECONDARY),
  entry(['gpt-5.4-mini'], openai(0.75, 0.075, 4.5), OPENAI, undefined, SECONDARY),
  entry(['gpt-5.4-nano'], openai(0.2, 0.02, 1.25), OPENAI, undefined, SECONDARY),
  entry(['gpt-5.5'], openai(5, 0.5, 30), OPENAI, { aboveTokens: 272_000 }, SECONDARY),
  // Google: input counts include cached tokens on the wire; the tiers split at 200K prompt tokens.
  entry(['gemini-2.5-pro'], google(1.25, 0.125, 10), GOOGLE, { aboveTokens: 200_000, prices: google(2.5, 0.25, 15) }, RECALLED),
  entry(['gemini-2.5-flash'], google(0.3, 0.03, 2.5), GOOGLE, undefined, RECALLED),
  entry(['gemini-2.5-flash-lite'], google(0.1, 0.01, 0.4), GOOGLE, undefined, RECALLED),
  entry(['gemini-3-pro-preview'], google(2, 0.2, 12), GOOGLE, { aboveTokens: 200_000, prices: google(4, 0.4, 18) }, RECALLED),
  entry(['gemini-3-flash-preview'], google(0.5, 0.05, 3), GOOGLE, undefined, RECALLED),
];

/** What may follow a table id: a snapshot date, a Bedrock version, `-latest`. */
const ALLOWED_SUFFIX = /^(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}))?(?:-v\d+(?::\d+)?)?(?:-latest)?$/;

/** Lower case, without gateway prefixes (`openai/`, `models/`, `us.anthropic.`) or `[1m]`. */
export function normalizeModelId(model: string): string {
  let id = model.trim().toLowerCase();
  id = id.slice(id.lastIndexOf('/') + 1);
  id = id.replace(/^(?:[a-z]{2,6}\.)?anthropic\./, '');
  id = id.replace(/\[[^\]]*\]$/, '');
  // OpenRouter spells Claude versions with dots (`claude-sonnet-4.5`), Anthropic with dashes.
  if (id.startsWith('claude-')) id = id.replace(/(\d)\.(\d)/g, '$1-$2');
  return id;
}

const byLength = PRICE_TABLE.flatMap((e) => e.ids.map((id) => ({ id, entry: e }))).sort((a, b) => b.id.length - a.id.length);

const found = new Map<string, PriceEntry | null>();

/** The table entry for a model id, if it is one the table knows. */
export function findPrice(model: string): PriceEntry | undefined {
  let result = found.get(model);
  if (result === undefined) {
    const id = normalizeModelId(model);
    result = byLength.find((c) => id.startsWith(c.id) && ALLOWED_SUFFIX.test(id.slice(c.id.length)))?.entry ?? null;
    // Model ids are few; remembering them keeps costing a long session cheap.
    if (found.size < 1000) found.set(model, result);
  }
  return result ?? undefined;
}

export interface BillableTokens {
  uncachedInput: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** The list-price cost of one call, or undefined when it cannot be known. */
export function costOf(model: string | undefined, tokens: BillableTokens): number | undefined {
  if (model === undefined) return undefined;
  const found = findPrice(model);
  if (!found) return undefined;
  let prices: TokenPrices | undefined = found.prices;
  const prompt = tokens.uncachedInput + tokens.cacheRead + tokens.cacheWrite;
  if (found.longContext && prompt > found.longContext.aboveTokens) prices = found.longContext.prices;
  if (!prices) return undefined;
  return (tokens.uncachedInput * prices.input + tokens.output * prices.output
    + tokens.cacheRead * prices.cacheRead + tokens.cacheWrite * prices.cacheWrite) / 1_000_000;
}
