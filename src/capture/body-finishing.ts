// What is kept of a body once it is complete: the decoded bytes, redacted, with a JSON check;
// or, when decoding failed, the raw bytes, unless they would carry a secret into the store.
import type { DecodeResult } from './content-decoding';
import type { StoredBody } from './records';
import { mediaType, type Redactor } from './redaction';

export type BodySide = 'request' | 'response';

/**
 * Turns a decode result into the body to store. Problems are appended to `problems` as
 * sentences (the JSON one starts with "<side> body is not valid JSON: ", as the UI shows it).
 */
export function finishBody(result: DecodeResult, contentType: string | undefined, side: BodySide,
  redactor: Redactor, problems: string[]): StoredBody {
  const body = { ...result.body };
  if (body.error) problems.push(body.error);
  if (!body.decoded) {
    // The raw bytes are compressed: they cannot be redacted, but the part decoded before the
    // failure shows whether they hide a secret. If so, keep that part (redacted) instead.
    const prefix = result.decodedPrefix;
    if (prefix) {
      const redacted = redactor.body(prefix, contentType);
      if (redacted !== prefix) {
        problems.push('the raw bytes were withheld because they hold a secret; kept the part decoded before the failure, redacted');
        return { ...body, data: redacted, decoded: true, truncated: true };
      }
    }
    return body;
  }
  // A body cut at the limit is invalid JSON for that reason alone, which is already said.
  // One latin1 view serves the JSON check and redaction (decoding it twice was a tenth of capture's CPU on large bodies).
  const text = body.data.length > 0 ? body.data.toString('latin1') : '';
  if (isJsonContentType(contentType) && !body.truncated && body.data.length > 0) {
    const problem = jsonProblem(text, body.data);
    if (problem) problems.push(`${side} body is not valid JSON: ${problem}`);
  }
  body.data = redactor.bodyText(text, body.data, contentType);
  return body;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * Whether `latin1` (the body's bytes, one char each) is valid JSON. JSON's syntax is all ASCII and
 * any other byte may stand inside a string, so the latin1 view is valid exactly when the UTF-8
 * text is; only the error message, which quotes the text, is taken from the UTF-8 text.
 */
function jsonProblem(latin1: string, data: Buffer): string | undefined {
  if (parses(latin1.startsWith('\xef\xbb\xbf') ? latin1.slice(3) : latin1) === undefined) return undefined;
  const text = data.toString('utf8');
  return parses(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/** JSON.parse's error message, or undefined when the text parses. */
function parses(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
