export { toHar, utf8 } from './har-export';
export type { HarSource } from './har-export';
export { readHar } from './har-import';
export type { HarReading, ImportedHar, ImportIds, SkippedEntry } from './har-import';
export { HarFormatError } from './har-validation';
export type * from './har-types';
