/** Plugins on disk: the store of installed plugins, unpacking and packing contexts, capped log files. */
export { CappedLog, followCappedLog, readCappedLog } from './capped-log.ts';
export { packPlugin } from './pack.ts';
export { type LoadReport, type PluginState, PluginStore } from './store.ts';
export {
  DEFAULT_UNPACK_LIMITS,
  extractLayer,
  type UnpackedContext,
  type UnpackLimits,
  unpackDirectory,
  unpackTar,
} from './unpack.ts';
