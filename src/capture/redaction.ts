// Secrets never reach the store (docs/decisions.md, decision 14). A secret becomes
// `[REDACTED:<first 8 hex digits of its SHA-256>]`, so equal secrets stay visibly equal (the same
// key in `x-api-key` and in `authorization: Bearer …` gives the same marker) without being
// recoverable. Only copies are redacted: the forwarding path keeps the real values.
//
// Secrets found by name are also remembered (the most recent few), and every later copy of one is
// replaced wherever it turns up: an agent that runs `echo $ANTHROPIC_API_KEY` or reads `.env`
// puts the key from its own header into the next request body, under no telling name.
//
// Decisions: the auth scheme word stays (`Bearer [REDACTED:…]`, RFC 9110 §11.4) because it says
// which kind of credential was sent; cookie names stay and only their values go, because the
// names help to debug and are not secret.
import { createHash } from 'node:crypto';
import { redactJsonBytes, redactJsonText, type JsonRedactionRules } from './json-redaction';

export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-auth-token',
  'cookie', 'set-cookie',
];

/** JSON and form fields; matched ignoring case and `-`, `_`, `.` (so `accessToken` = `access_token`). */
export const DEFAULT_REDACTED_FIELDS: readonly string[] = [
  'access_token', 'refresh_token', 'id_token', 'session_token', 'auth_token', 'bearer_token',
  'client_secret', 'client_assertion', 'code_verifier', 'api_key', 'private_key', 'secret', 'password',
];

/**
 * Query parameters beyond the fields: `key=` (Gemini), `token=`, and URL signatures. Too generic to
 * apply inside JSON, where `token` and `key` are ordinary names (logprobs, tool schemas).
 */
const EXTRA_QUERY_PARAMETERS = ['key', 'token', 'sig', 'signature', 'x-amz-signature', 'x-amz-credential'];

/**
 * Bodies over this size are redacted from their bytes: as one latin1 string they would land in
 * V8's large object space (strings from 128 KiB), which cost 7 times as much per byte (decision 90).
 */
const LARGE_TEXT_BYTES = 127 * 1024;

/** Remembered secrets (most recent first out when full), and the shortest worth remembering. */
const MAX_KNOWN_SECRETS = 64;
const MIN_KNOWN_SECRET_LENGTH = 12;

const MARKER = /^(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+ )?\[REDACTED:[0-9a-f]{8}\]$/;

export function redactionMarker(secret: string): string {
  return `[REDACTED:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)}]`;
}

export function isRedactionMarker(value: string): boolean {
  return MARKER.test(value);
}

export interface RedactionOptions {
  /** Header names to redact beyond DEFAULT_REDACTED_HEADERS (case-insensitive). */
  headers?: readonly string[];
  /** JSON, form and query field names to redact beyond DEFAULT_REDACTED_FIELDS. */
  fields?: readonly string[];
}

function normalizeField(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}

export class Redactor {
  private readonly headerNames: Set<string>;
  private readonly fieldNames: Set<string>;
  private readonly queryNames: Set<string>;
  private readonly queryPrecheck: RegExp;
  private readonly jsonRules: JsonRedactionRules;
  private readonly keyCache = new Map<string, boolean>();
  /** Secret → its marker and its UTF-8 bytes as latin1 (to find it in raw bodies). */
  private readonly known = new Map<string, { marker: string; bytes: string }>();

  constructor(options: RedactionOptions = {}) {
    this.headerNames = new Set([...DEFAULT_REDACTED_HEADERS, ...(options.headers ?? [])].map((h) => h.toLowerCase()));
    // A header name is a secret-bearing JSON key too (e.g. MCP configs with `"headers": {"Authorization": …}`).
    this.fieldNames = new Set([...DEFAULT_REDACTED_FIELDS, ...(options.fields ?? []), ...this.headerNames].map(normalizeField));
    this.queryNames = new Set([...this.fieldNames, ...EXTRA_QUERY_PARAMETERS.map(normalizeField)]);
    this.queryPrecheck = anySpelling(this.queryNames);
    this.jsonRules = {
      isSecretKey: (key) => this.isSecretField(key),
      replacement: (key, value) => this.redactValue(normalizeField(key), value),
      isRedacted: isRedactionMarker,
    };
  }

  /** Whether a JSON key names a secret. Bodies repeat the same few keys, so answers are cached. */
  private isSecretField(key: string): boolean {
    let answer = this.keyCache.get(key);
    if (answer === undefined) {
      answer = key.length <= 64 && this.fieldNames.has(normalizeField(key));
      if (this.keyCache.size >= 10_000) this.keyCache.clear();
      this.keyCache.set(key, answer);
    }
    return answer;
  }

  /** Turns raw headers ([name, value, name, value, …]) into redacted pairs, case and order kept. */
  headers(rawHeaders: readonly string[]): [string, string][] {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      pairs.push([rawHeaders[i], this.headerValue(rawHeaders[i], rawHeaders[i + 1])]);
    }
    return pairs;
  }

  headerValue(name: string, value: string): string {
    const lower = name.toLowerCase();
    if (!this.headerNames.has(lower)) return this.scrubKnown(value, false);
    return this.redactValue(normalizeField(lower), value);
  }

  /** Redacts query parameters (and userinfo, and a fragment's parameters) of a URL, bytes kept otherwise. */
  url(url: string): string {
    const hash = url.indexOf('#');
    const beforeHash = hash === -1 ? url : url.slice(0, hash);
    const fragment = hash === -1 ? undefined : url.slice(hash + 1);
    const question = beforeHash.indexOf('?');
    let head = question === -1 ? beforeHash : beforeHash.slice(0, question);
    const query = question === -1 ? undefined : beforeHash.slice(question + 1);
    head = head.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      // Without a password, the user part itself is often a token (https://<token>@host).
      const redacted = colon === -1 ? this.marker(userinfo) : `${userinfo.slice(0, colon)}:${this.marker(safeDecode(userinfo.slice(colon + 1)))}`;
      return `${scheme}${redacted}@`;
    });
    let out = head;
    if (query !== undefined) out += `?${this.form(query)}`;
    if (fragment !== undefined) out += `#${this.form(fragment)}`;
    return this.scrubKnown(out, false);
  }

  /** Redacts `application/x-www-form-urlencoded` text (also a query string). */
  form(text: string): string {
    if (!this.queryPrecheck.test(text)) return text;
    return text.split('&').map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const name = safeDecode(part.slice(0, eq));
      if (!this.queryNames.has(normalizeField(name))) return part;
      const value = safeDecode(part.slice(eq + 1));
      if (value === '' || isRedactionMarker(value)) return part;
      return `${part.slice(0, eq)}=${this.marker(value)}`;
    }).join('&');
  }

  /** Redacts secret fields in JSON-like text (JSON, SSE data, a WebSocket text message). */
  jsonText(text: string): string {
    return this.scrubKnown(redactJsonText(text, this.jsonRules), false);
  }

  /** Redacts a stored body. Returns the same Buffer when nothing was secret. */
  body(data: Buffer, contentType: string | undefined): Buffer {
    if (data.length === 0) return data;
    if (data.length > LARGE_TEXT_BYTES && !isFormContentType(contentType)) return this.largeBody(data);
    // latin1 maps each byte to one char and back, so the bytes around a secret survive exactly.
    const text = data.toString('latin1');
    const byName = isFormContentType(contentType) ? this.form(text) : redactJsonText(text, this.jsonRules, true);
    const redacted = this.scrubKnown(byName, true);
    return redacted === text ? data : Buffer.from(redacted, 'latin1');
  }

  /** `body` for a large JSON-like body: read from its bytes, made one string only if something in it is secret. */
  private largeBody(data: Buffer): Buffer {
    const byName = redactJsonBytes(data, this.jsonRules);
    if (byName === undefined && ![...this.known.values()].some((e) => data.includes(e.bytes, 0, 'latin1'))) return data;
    return Buffer.from(this.scrubKnown(byName ?? data.toString('latin1'), true), 'latin1');
  }

  /** The marker of a secret, which is remembered so that its other copies are found too. */
  private marker(secret: string): string {
    // Already redacted (an imported export, a re-read record): redacting again would change the marker.
    if (isRedactionMarker(secret)) return secret;
    let entry = this.known.get(secret);
    if (entry) {
      // Most recently used last, so the oldest is the one forgotten when the map is full.
      this.known.delete(secret);
      this.known.set(secret, entry);
    } else {
      entry = { marker: redactionMarker(secret), bytes: Buffer.from(secret, 'utf8').toString('latin1') };
      if (secret.length >= MIN_KNOWN_SECRET_LENGTH) {
        if (this.known.size >= MAX_KNOWN_SECRETS) this.known.delete(this.known.keys().next().value as string);
        this.known.set(secret, entry);
      }
    }
    return entry.marker;
  }

  /** Replaces every copy of a remembered secret. `bytes`: the text is a latin1 view of bytes. */
  private scrubKnown(text: string, bytes: boolean): string {
    for (const [secret, entry] of this.known) {
      const needle = bytes ? entry.bytes : secret;
      if (text.includes(needle)) text = text.split(needle).join(entry.marker);
    }
    return text;
  }

  /** The redacted form of a header or field value, by its normalized name. */
  private redactValue(normalizedName: string, value: string): string {
    if (isRedactionMarker(value)) return value;
    if (normalizedName === 'authorization' || normalizedName === 'proxyauthorization') {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s+(\S.*)$/s.exec(value.trim());
      if (m) return `${m[1]} ${this.marker(m[2].trim())}`;
    }
    if (normalizedName === 'cookie') {
      return value.split(';').map((c) => this.cookiePair(c)).join(';');
    }
    if (normalizedName === 'setcookie') {
      const semi = value.indexOf(';');
      return semi === -1 ? this.cookiePair(value) : this.cookiePair(value.slice(0, semi)) + value.slice(semi);
    }
    return this.marker(value);
  }

  private cookiePair(pair: string): string {
    const eq = pair.indexOf('=');
    if (eq === -1) return pair.trim() === '' ? pair : this.marker(pair.trim());
    return `${pair.slice(0, eq)}=${this.marker(pair.slice(eq + 1).trim())}`;
  }
}

export function isFormContentType(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/x-www-form-urlencoded';
}

/** The media type of a Content-Type value, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A case-insensitive test for any spelling of any of these normalized names. */
function anySpelling(names: Iterable<string>): RegExp {
  const spellings = [...names].map((n) => [...n].map(escapeRegExp).join('[-_.\\s]?'));
  return new RegExp(spellings.join('|'), 'i');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
