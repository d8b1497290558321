/**
 * `berth/plugin`: write Docker managed plugins in TypeScript. Typed handlers for every plugin protocol and
 * `serve()`, which speaks the wire protocol. Imports nothing of berth's daemon (scripts/check-layers.mjs).
 *
 * @module
 */
export * from './authz.ts';
export { decodeRequest, type FieldKind, type Fields, RequestError } from './fields.ts';
export * from './log-entry.ts';
export * from './logdriver.ts';
export * from './network.ts';
export type { CallContext } from './route.ts';
export * from './serve.ts';
export * from './volume.ts';
