// Capture's public surface: tap events in, decoded and redacted records out to a CaptureSink.
export { CaptureRecorder } from './exchange-recorder';
export type { CaptureRecorderOptions } from './exchange-recorder';
export type * from './records';
export { BodyDecoder, DEFAULT_MAX_BODY_BYTES, parseContentEncoding } from './content-decoding';
export type { BodyDecoderOptions, DecodeResult } from './content-decoding';
export { SseStream } from './sse-stream';
export type { SseEvent, SseStreamOptions } from './sse-stream';
export { DEFAULT_REDACTED_FIELDS, DEFAULT_REDACTED_HEADERS, Redactor, redactionMarker, isRedactionMarker } from './redaction';
export type { RedactionOptions } from './redaction';
