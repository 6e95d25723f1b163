// Checks HAR read from a file before anything of it is imported. A document-level problem (not
// JSON, not an object, no `log.entries` array, another HAR version) is a HarFormatError: nothing
// is imported. Each entry is checked on its own and either comes out as a normalized HarEntry or
// fails with a HarFieldError naming the field, so one bad entry can be skipped with its reason.
// What is checked is what the importer reads. Required fields (the request's method and URL, the
// start time, headers, bodies, WebSocket messages, our own `_llmCapture` block) must have the
// right type; optional metadata that real tools write differently or leave out (timings, sizes,
// HTTP version, status text, a missing response) gets a default, HAR's -1 for "unknown".
// The result is built from fresh objects holding only known fields: nothing else from the file
// (`__proto__` keys, extra nesting) travels further.
import type { HarEntry, HarNameValue } from './har-types';
import { checkExtras, checkWebSocketMessages } from './har-extensions-check';
import {
  describe, escapeControls, HarFieldError, isBase64, isRecord, lenientNumber, lenientText, optionalRecord, optionalText, own, quote, record, text, type JsonObject,
} from './har-fields';

export { HarFieldError } from './har-fields';

/** The document cannot be imported at all. */
export class HarFormatError extends Error {}

/** The entries of a HAR document (still unchecked). Throws HarFormatError. */
export function harEntries(fileText: string): unknown[] {
  // Some Windows tools begin the file with a byte-order mark, which JSON.parse refuses.
  const json = fileText.charCodeAt(0) === 0xfeff ? fileText.slice(1) : fileText;
  if (json.trim() === '') throw new HarFormatError('not a HAR file: the file is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    // V8 parses without recursion today; other engines (and older V8) overflow the stack instead.
    if (e instanceof RangeError) throw new HarFormatError('not valid JSON: nested too deeply');
    // V8's message quotes a few characters of the file: escape any control character in them.
    const message = escapeControls((e as Error).message.slice(0, 200));
    throw new HarFormatError(`not valid JSON: ${message}${endsEarly(message, json) ? ' (is the file truncated?)' : ''}`);
  }
  if (!isRecord(doc)) throw new HarFormatError(`not a HAR file: expected a JSON object with a "log", got ${describe(doc)}`);
  const log = own(doc, 'log');
  if (log === undefined) throw new HarFormatError('not a HAR file: log: missing');
  if (!isRecord(log)) throw new HarFormatError(`not a HAR file: log: expected an object, got ${describe(log)}`);
  const version = own(log, 'version');
  if ((typeof version === 'string' && version !== '' && !/^1(\.\d+)?$/.test(version.trim())) || (typeof version === 'number' && Math.floor(version) !== 1)) {
    throw new HarFormatError(`unsupported HAR version ${quote(String(version))} (this reads HAR 1.1 and 1.2)`);
  }
  const entries = own(log, 'entries');
  if (entries === undefined) throw new HarFormatError('not a HAR file: log.entries: missing');
  if (!Array.isArray(entries)) throw new HarFormatError(`not a HAR file: log.entries: expected an array, got ${describe(entries)}`);
  return entries;
}

/** One entry, checked and normalized. Throws HarFieldError. */
export function checkHarEntry(raw: unknown): HarEntry {
  const entry = record(raw, '');
  const startedDateTime = text(own(entry, 'startedDateTime'), 'startedDateTime');
  if (Number.isNaN(Date.parse(startedDateTime))) throw new HarFieldError('startedDateTime', `not a date: ${quote(startedDateTime)}`);
  const request = checkRequest(record(own(entry, 'request'), 'request'));
  // Some tools write no response for a request that got none.
  const response = checkResponse(optionalRecord(own(entry, 'response'), 'response') ?? {});
  const timings = isRecord(own(entry, 'timings')) ? own(entry, 'timings') as JsonObject : {};
  const extras = checkExtras(own(entry, '_llmCapture'));
  const messages = checkWebSocketMessages(own(entry, '_webSocketMessages'), extras?.wsBase64 ?? []);
  const connection = own(entry, 'connection');
  const resourceType = lenientText(own(entry, '_resourceType'));
  return {
    startedDateTime,
    time: lenientNumber(own(entry, 'time')),
    request,
    response,
    cache: {},
    timings: { send: lenientNumber(own(timings, 'send')), wait: lenientNumber(own(timings, 'wait')), receive: lenientNumber(own(timings, 'receive')) },
    // Chrome writes the connection id as a string, others as a number.
    ...(typeof connection === 'string' || (typeof connection === 'number' && Number.isFinite(connection)) ? { connection: String(connection) } : {}),
    ...(resourceType ? { _resourceType: resourceType } : {}),
    ...(messages ? { _webSocketMessages: messages } : {}),
    ...(extras ? { _llmCapture: extras } : {}),
  };
}

function checkRequest(request: JsonObject): HarEntry['request'] {
  const method = text(own(request, 'method'), 'request.method');
  if (method === '') throw new HarFieldError('request.method', 'empty');
  const url = text(own(request, 'url'), 'request.url');
  if (url === '') throw new HarFieldError('request.url', 'empty');
  const postData = optionalRecord(own(request, 'postData'), 'request.postData');
  // Not in HAR 1.2: we (and some tools) write `_encoding`, others `encoding`.
  const posted = postData && body(postData, 'request.postData', lenientText(own(postData, '_encoding')) || lenientText(own(postData, 'encoding')));
  return {
    method,
    url,
    httpVersion: lenientText(own(request, 'httpVersion')),
    cookies: [],
    headers: headers(own(request, 'headers'), 'request.headers'),
    queryString: [],
    ...(postData ? { postData: { mimeType: lenientText(own(postData, 'mimeType')), ...(posted ? { text: posted.text, ...(posted.base64 ? { _encoding: 'base64' } : {}) } : {}) } } : {}),
    headersSize: -1,
    bodySize: lenientNumber(own(request, 'bodySize')),
  };
}

function checkResponse(response: JsonObject): HarEntry['response'] {
  const status = own(response, 'status') ?? 0;
  if (typeof status !== 'number' || !Number.isInteger(status) || status > 999) {
    throw new HarFieldError('response.status', typeof status === 'number' ? `not an HTTP status: ${status}` : `expected a number, got ${describe(status)}`);
  }
  const content = optionalRecord(own(response, 'content'), 'response.content') ?? {};
  const received = body(content, 'response.content', lenientText(own(content, 'encoding')));
  const error = lenientText(own(response, '_error'));
  return {
    // 0 is no response; some tools write -1 for it.
    status: Math.max(0, status),
    statusText: lenientText(own(response, 'statusText')),
    httpVersion: lenientText(own(response, 'httpVersion')),
    cookies: [],
    headers: headers(own(response, 'headers'), 'response.headers'),
    content: {
      size: lenientNumber(own(content, 'size')),
      mimeType: lenientText(own(content, 'mimeType')),
      ...(received ? { text: received.text, ...(received.base64 ? { encoding: 'base64' } : {}) } : {}),
    },
    redirectURL: '',
    headersSize: -1,
    bodySize: lenientNumber(own(response, 'bodySize')),
    ...(error ? { _error: error } : {}),
  };
}

/** A body's text, checked as base64 when it says so. */
function body(container: JsonObject, path: string, encoding: string): { text: string; base64: boolean } | undefined {
  const value = optionalText(own(container, 'text'), `${path}.text`);
  if (value === undefined) return undefined;
  const base64 = encoding.toLowerCase() === 'base64';
  if (base64 && !isBase64(value)) throw new HarFieldError(`${path}.text`, 'not valid base64');
  return { text: value, base64 };
}

function headers(value: unknown, path: string): HarNameValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HarFieldError(path, `expected an array, got ${describe(value)}`);
  return value.map((h: unknown, i) => {
    const header = record(h, `${path}[${i}]`);
    return { name: text(own(header, 'name'), `${path}[${i}].name`), value: text(own(header, 'value'), `${path}[${i}].value`) };
  });
}

/** Whether JSON.parse stopped at the end of the text: a cut file, not a wrong character. */
function endsEarly(message: string, json: string): boolean {
  if (/end of JSON input/i.test(message)) return true;
  const at = /at position (\d+)/.exec(message);
  return at !== null && Number(at[1]) >= json.trimEnd().length;
}
