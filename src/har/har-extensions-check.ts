// Checks for the HAR extensions the importer reads: WebSocket messages (Chrome's
// `_webSocketMessages`, also written by HTTP Toolkit, mitmproxy and us) and our own `_llmCapture`
// block. Messages belong to their entry: one bad message makes the whole entry skipped, since a
// conversation with a hole would be read wrongly. `_llmCapture` is written only by this tool, so a
// malformed one means a damaged file, and skipping says so rather than guessing.
import type { ExchangeKind, ExchangeRecord } from '../capture/records';
import type { HarWebSocketMessage, LlmCaptureEntryExtras, LlmCaptureBodyMeta } from './har-types';
import {
  expected, finite, HarFieldError, isBase64, lenientNumber, optionalBoolean, optionalFinite, optionalRecord, optionalText, own, quote, record, text,
} from './har-fields';

const KINDS: readonly ExchangeKind[] = ['http', 'sse', 'websocket', 'tunnel'];
const OUTCOMES: readonly NonNullable<ExchangeRecord['outcome']>[] = ['complete', 'client-aborted', 'upstream-error', 'refused'];

export function checkWebSocketMessages(value: unknown, base64Indexes: readonly number[]): HarWebSocketMessage[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw expected('_webSocketMessages', 'an array', value);
  const base64 = new Set(base64Indexes);
  return value.map((raw, i): HarWebSocketMessage => {
    const path = `_webSocketMessages[${i}]`;
    const m = record(raw, path);
    const type = text(own(m, 'type'), `${path}.type`);
    if (type !== 'send' && type !== 'receive') throw new HarFieldError(`${path}.type`, `expected "send" or "receive", got ${quote(type)}`);
    const opcode = finite(own(m, 'opcode'), `${path}.opcode`);
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new HarFieldError(`${path}.opcode`, `not a WebSocket opcode: ${opcode}`);
    const data = text(own(m, 'data'), `${path}.data`);
    if ((opcode === 2 || base64.has(i)) && !isBase64(data)) throw new HarFieldError(`${path}.data`, 'not valid base64');
    return { type, time: finite(own(m, 'time'), `${path}.time`), opcode, data };
  });
}

export function checkExtras(value: unknown): LlmCaptureEntryExtras | undefined {
  if (value === undefined || value === null) return undefined;
  const path = '_llmCapture';
  const x = record(value, path);
  const kind = text(own(x, 'kind'), `${path}.kind`);
  if (!(KINDS as readonly string[]).includes(kind)) throw new HarFieldError(`${path}.kind`, `unknown kind ${quote(kind)}`);
  const outcome = optionalText(own(x, 'outcome'), `${path}.outcome`);
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) throw new HarFieldError(`${path}.outcome`, `unknown outcome ${quote(outcome)}`);
  const label = optionalText(own(x, 'label'), `${path}.label`);
  const times = record(own(x, 'times'), `${path}.times`);
  const time = (name: string) => optionalFinite(own(times, name), `${path}.times.${name}`);
  const requestBody = bodyMeta(own(x, 'requestBody'), `${path}.requestBody`);
  const responseBody = bodyMeta(own(x, 'responseBody'), `${path}.responseBody`);
  const wsBase64 = indexes(own(x, 'wsBase64'), `${path}.wsBase64`);
  const [requestEndedAt, responseStartedAt, endedAt] = [time('requestEndedAt'), time('responseStartedAt'), time('endedAt')];
  return {
    exchangeId: lenientNumber(own(x, 'exchangeId')),
    connectionId: lenientNumber(own(x, 'connectionId')),
    kind: kind as ExchangeKind,
    ...(outcome ? { outcome: outcome as NonNullable<ExchangeRecord['outcome']> } : {}),
    errors: strings(own(x, 'errors'), `${path}.errors`),
    ...(label ? { label } : {}),
    ...(requestBody ? { requestBody } : {}),
    ...(responseBody ? { responseBody } : {}),
    times: {
      startedAt: finite(own(times, 'startedAt'), `${path}.times.startedAt`),
      ...(requestEndedAt !== undefined ? { requestEndedAt } : {}),
      ...(responseStartedAt !== undefined ? { responseStartedAt } : {}),
      ...(endedAt !== undefined ? { endedAt } : {}),
    },
    ...(wsBase64 ? { wsBase64 } : {}),
  };
}

function bodyMeta(value: unknown, path: string): LlmCaptureBodyMeta | undefined {
  const meta = optionalRecord(value, path);
  if (!meta) return undefined;
  const wireSize = finite(own(meta, 'wireSize'), `${path}.wireSize`);
  if (wireSize < 0) throw new HarFieldError(`${path}.wireSize`, `expected a size, got ${wireSize}`);
  const error = optionalText(own(meta, 'error'), `${path}.error`);
  const base64 = optionalBoolean(own(meta, 'base64'), `${path}.base64`);
  return {
    wireSize,
    encoding: optionalText(own(meta, 'encoding'), `${path}.encoding`) ?? '',
    decoded: optionalBoolean(own(meta, 'decoded'), `${path}.decoded`) ?? true,
    truncated: optionalBoolean(own(meta, 'truncated'), `${path}.truncated`) ?? false,
    ...(error ? { error } : {}),
    ...(base64 !== undefined ? { base64 } : {}),
  };
}

function strings(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw expected(path, 'an array', value);
  return value.map((s, i) => text(s, `${path}[${i}]`));
}

function indexes(value: unknown, path: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw expected(path, 'an array', value);
  return value.map((n, i) => {
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
    throw typeof n === 'number' ? new HarFieldError(`${path}[${i}]`, `not an index: ${n}`) : expected(`${path}[${i}]`, 'a number', n);
  });
}
