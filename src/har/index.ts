export { toHar, utf8 } from './har-export';
export type { HarSource } from './har-export';
export { fromHar, parseHar } from './har-import';
export type { ImportedHar, ImportIds } from './har-import';
export type * from './har-types';
