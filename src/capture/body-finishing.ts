// What is kept of a body once it is complete: the decoded bytes, redacted, with a JSON check;
// or, when decoding failed, the raw bytes, unless they would carry a secret into the store.
import type { DecodeResult } from './content-decoding';
import { isValidJson } from './json-validation';
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
  if (isJsonContentType(contentType) && !body.truncated && body.data.length > 0) {
    const problem = jsonProblem(body.data);
    if (problem) problems.push(`${side} body is not valid JSON: ${problem}`);
  }
  body.data = redactor.body(body.data, contentType);
  return body;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * Why the body is not valid JSON, or undefined when it is. The verdict is read from the bytes
 * (json-validation.ts: no string is made, no value is built; decision 90). JSON's syntax is all
 * ASCII and any other byte may stand inside a string, so the bytes are valid exactly when the
 * UTF-8 text is; only the message, which quotes the text, is JSON.parse's on the UTF-8 text.
 */
function jsonProblem(data: Buffer): string | undefined {
  const bom = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf;
  if (isValidJson(data, bom ? 3 : 0)) return undefined;
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
