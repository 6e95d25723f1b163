// Which CONNECT targets are decrypted. Everything else is a blind tunnel (docs/architecture.md, "The proxy").
// The CA's name constraints and the recording of plain HTTP follow the same list (docs/decisions.md, decisions 6 and 9).

/** LLM API hosts that are intercepted unless the user configures another list. */
export const DEFAULT_INTERCEPT_HOSTS: readonly string[] = [
  'api.anthropic.com',
  'api.openai.com',
  'chatgpt.com',
  'generativelanguage.googleapis.com',
  'openrouter.ai',
  'api.mistral.ai',
  'api.groq.com',
  'api.deepseek.com',
  'api.x.ai',
  'api.together.xyz',
  'api.fireworks.ai',
  'opencode.ai',
];

/**
 * A host pattern is an exact name (`api.openai.com`), a wildcard for every subdomain
 * (`*.openai.azure.com`, which does not match the bare parent), or an IP address.
 * Ports are not part of a pattern: a host is intercepted on every port.
 */
export function normalizePattern(pattern: string): string {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  if (!p) throw new Error('empty host pattern');
  if (p.startsWith('*.')) {
    if (p.slice(2).includes('*')) throw new Error(`invalid host pattern "${pattern}": only a leading "*." is allowed`);
  } else if (p.includes('*')) {
    throw new Error(`invalid host pattern "${pattern}": only a leading "*." is allowed`);
  }
  return stripBrackets(p);
}

export class InterceptPolicy {
  readonly patterns: readonly string[];
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(patterns: readonly string[] = DEFAULT_INTERCEPT_HOSTS) {
    this.patterns = [...new Set(patterns.map(normalizePattern))].sort();
    for (const p of this.patterns) {
      if (p.startsWith('*.')) this.suffixes.push(p.slice(1));
      else this.exact.add(p);
    }
  }

  shouldIntercept(host: string): boolean {
    const h = stripBrackets(host.toLowerCase().replace(/\.$/, ''));
    if (this.exact.has(h)) return true;
    return this.suffixes.some((s) => h.endsWith(s) && h.length > s.length);
  }
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
