// Public surface of src/llm: pure functions from captured records to provider-neutral LLM calls.
export { dissectExchange } from './dissect';
export type { DissectInput } from './dissector';
export { DEFAULT_ROUTES, matchRoute, providerOfHost, withDefaultRoutes, type Route, type RouteMatch } from './routing';
export { claudeSessionId, systemFingerprint } from './identity';
export type * from './llm-call';
