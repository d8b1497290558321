/**
 * berth as a library: Docker's default OCI spec, the managed-plugin → OCI spec engine, spec validation
 * against the official schema, and berth's error taxonomy.
 *
 * @module
 */
export * from './errdefs/index.ts';
export * from './executor/index.ts';
export { devicesFromPath } from './host/index.ts';
export {
  decodeEntry,
  encodeFrame,
  FrameDecoder,
  LineSplitter,
  type LogEntry,
  type LogMessage,
  PARTIAL_SPLIT_BYTES,
  type PartialMetadata,
} from './logdriver/index.ts';
export * from './oci/index.ts';
export * from './plugins/index.ts';
export * from './registry/index.ts';
export * from './runtimes/index.ts';
