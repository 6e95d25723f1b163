// Anthropic's prompt cache as its documentation describes it, for the fake Messages API: the
// prompt is read in the order tools → system → messages; a `cache_control` breakpoint writes the
// prefix up to it; a later request reads the longest prefix that was written, checked at each of
// its breakpoints and up to 20 blocks before each; entries live five minutes (or an hour with
// ttl "1h"), refreshed when read (https://docs.claude.com/en/docs/build-with-claude/prompt-caching).
// Tokens are counted as characters / 4. Claude Code's billing line (system block 0, whose cch=
// hash changes on every request) is left out of the key, as real captures show the API does.
import { createHash } from 'node:crypto';

const LOOKBACK_BLOCKS = 20;
const FIVE_MINUTES = 5 * 60_000;
const ONE_HOUR = 60 * 60_000;

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

interface Block {
  key: string;
  tokens: number;
  ttlMs?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function block(raw: unknown, where: string): Block {
  const { cache_control: control, ...rest } = isRecord(raw) ? raw : { value: raw };
  const json = JSON.stringify(rest);
  const b: Block = { key: `${where}:${json}`, tokens: Math.ceil(json.length / 4) };
  if (isRecord(control)) b.ttlMs = control.ttl === '1h' ? ONE_HOUR : FIVE_MINUTES;
  return b;
}

function promptBlocks(body: Record<string, unknown>): Block[] {
  const blocks: Block[] = [];
  for (const tool of Array.isArray(body.tools) ? body.tools : []) blocks.push(block(tool, 'tool'));
  const system = typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : Array.isArray(body.system) ? body.system : [];
  for (const s of system) {
    if (isRecord(s) && typeof s.text === 'string' && s.text.startsWith('x-anthropic-billing-header:')) continue;
    blocks.push(block(s, 'system'));
  }
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    const content = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : Array.isArray(message.content) ? message.content : [];
    for (const c of content) blocks.push(block(c, `${String(message.role)}`));
  }
  return blocks;
}

export class FakePromptCache {
  /** Prefix hash → when it expires. */
  private readonly entries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  usage(body: Record<string, unknown>): CacheUsage {
    const blocks = promptBlocks(body);
    const hashes: string[] = [];
    const ends: number[] = [];
    const hash = createHash('sha256');
    let tokens = 0;
    for (const b of blocks) {
      hash.update(b.key).update('\0');
      hashes.push(hash.copy().digest('hex'));
      tokens += b.tokens;
      ends.push(tokens);
    }
    const now = this.now();
    const breakpoints = blocks.flatMap((b, i) => (b.ttlMs !== undefined ? [i] : []));
    // The longest written prefix found from any breakpoint, looking back 20 blocks from each.
    let readTo = -1;
    for (const bp of breakpoints) {
      for (let i = bp; i >= Math.max(0, bp - LOOKBACK_BLOCKS) && i > readTo; i--) {
        const expires = this.entries.get(hashes[i]!);
        if (expires !== undefined && expires > now) {
          readTo = i;
          break;
        }
      }
    }
    const last = breakpoints[breakpoints.length - 1] ?? -1;
    for (const bp of breakpoints) this.entries.set(hashes[bp]!, now + blocks[bp]!.ttlMs!);
    if (readTo >= 0) this.entries.set(hashes[readTo]!, Math.max(this.entries.get(hashes[readTo]!) ?? 0, now + FIVE_MINUTES));
    const read = readTo >= 0 ? ends[readTo]! : 0;
    const written = last > readTo ? ends[last]! - read : 0;
    return { input_tokens: Math.max(1, tokens - read - written), cache_creation_input_tokens: written, cache_read_input_tokens: read };
  }
}
