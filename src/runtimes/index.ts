export {
  parseRuntimesConfig,
  type RuntimeEntry,
  type RuntimesConfig,
  type RuntimesConfigSource,
} from './config.ts';
export {
  isShimRuntimeName,
  isStockRuntime,
  MAX_RUNTIME_NAME_LENGTH,
  runtimeNameProblem,
  STOCK_DEFAULT_RUNTIME,
  STOCK_RUNTIMES,
  shimBinaryName,
} from './names.ts';
export { pruneWrappers, shellQuote, wrapperFileName, wrapperScript, writeWrapper } from './wrapper.ts';
