export {
  decodeEntry,
  encodeFrame,
  FrameDecoder,
  type LogEntry,
  MAX_FRAME_BYTES,
  type PartialMetadata,
} from './entry.ts';
export {
  DEFAULT_MAX_BUFFER_BYTES,
  type DeliveryOptions,
  deliveryOptions,
  type LogMode,
  parseSize,
} from './options.ts';
export {
  FIFO_DIR_IN_PLUGIN,
  FLUSH_TIMEOUT_MS,
  LOG_DRIVER_CAPABILITY,
  type LogInfo,
  LogSession,
  type LogSessionOptions,
  STOP_LOGGING_TIMEOUT_MS,
} from './session.ts';
export { LineSplitter, type LogMessage, PARTIAL_SPLIT_BYTES } from './splitter.ts';
