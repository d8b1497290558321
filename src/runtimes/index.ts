export {
  parseRuntimesConfig,
  type RuntimeEntry,
  type RuntimesConfig,
  type RuntimesConfigSource,
} from './config.ts';
export { type ContainerdRuntime, containerdRuntimeOf } from './containerd-runtime.ts';
export {
  checkKubernetes,
  handlerNameProblem,
  type KubernetesRuntime,
  labelKeyProblem,
  MAX_HANDLER_LENGTH,
  suggestHandler,
} from './kubernetes.ts';
export { leftoverHandle } from './leftovers.ts';
export {
  diffRuntimeSets,
  type ReloadDiff,
  type RunnableRuntimes,
  RuntimeManager,
  type RuntimeManagerOptions,
  type RuntimeSet,
  type RuntimeStatus,
  underContainerd,
} from './manager.ts';
export {
  isShimRuntimeName,
  isStockRuntime,
  MAX_RUNTIME_NAME_LENGTH,
  RUNC_SHIM_TYPE,
  runtimeNameProblem,
  STOCK_DEFAULT_RUNTIME,
  STOCK_RUNTIMES,
  shimBinaryName,
} from './names.ts';
export {
  ProbeCache,
  type ProbeOptions,
  probeRuntime,
  type RuntimeHealth,
  type RuntimeProbe,
} from './probe.ts';
export {
  type ResolvedRuntime,
  type RuncRuntime,
  type RuncShimOptions,
  type RuntimeHost,
  resolveRuntime,
  resolveRuntimes,
  runtimeRoot,
  type ShimRuntime,
} from './resolve.ts';
export { pruneWrappers, shellQuote, wrapperFileName, wrapperScript, writeWrapper } from './wrapper.ts';
