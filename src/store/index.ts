// The store's public surface: CaptureStore (a CaptureSink plus paged queries) and its types.
export { CaptureStore, DEFAULT_RETENTION, StoreLockedError } from './capture-store';
export type { CaptureStoreOptions, SnapshotInfo, StoreLog, StoreLogLevel, StoreMode, StoreRole, StoreStats } from './capture-store';
export type { EngineTimings } from './store-engine';
export type { ExchangeListOptions, ExchangeSummary, ListOptions, Page, SequenceOptions, StoredWsMessage, WsListOptions } from './queries';
export type { BodyRef } from './operations';
export type { RetentionResult, RetentionSettings } from './retention';
export { SchemaTooNewError, SCHEMA_VERSION } from './schema';
export { BodyIntegrityError } from './body-reader';
export { defaultWasmPath } from './sqlite';
export type { LockOwner } from './writer-lock';
export { reclaimOwnProcessLock } from './writer-lock';
