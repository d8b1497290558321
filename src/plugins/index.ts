// plugins/ by concept: model (the Plugin object), spec (its OCI spec), store (on disk), supervision (running
// it), rpc (calling it) and distribution (registries). The layer's public names, re-exported.

export type { Progress, ProgressMessage } from './distribution/index.ts';
export {
  type DistributionOptions,
  PluginDistribution,
  type PushResult,
  type TransferOptions,
} from './distribution/index.ts';
export type {
  Plugin,
  PluginArgs,
  PluginConfig,
  PluginDevice,
  PluginEnv,
  PluginMount,
  PluginSettings,
} from './model/index.ts';
export {
  applySettings,
  computePrivileges,
  decodeManifest,
  decodePlugin,
  initialSettings,
  isIdPrefix,
  KNOWN_INTERFACES,
  manifestProblems,
  normalizeName,
  PluginConfigSchema,
  type PluginPrivilege,
  type PluginReference,
  PluginSchema,
  PluginSettingsSchema,
  parseReference,
  privilegesMatch,
  SETTABLE_FIELDS,
  validateManifest,
} from './model/index.ts';
export {
  AuthzChain,
  type AuthzRequest,
  type AuthzResponse,
  DEFAULT_CALL_TIMEOUT_MS,
  LONG_CALL_TIMEOUT_MS,
  PLUGIN_MEDIA_TYPE,
  PluginClient,
  type PluginClientOptions,
} from './rpc/index.ts';
export {
  buildPluginSpec,
  METRICS_COLLECTOR_TYPE,
  METRICS_SOCKET_IN_CONTAINER,
  mergeMounts,
  PLUGIN_SOCKET_DIR_IN_CONTAINER,
  type PluginPaths,
  type PluginSpecInput,
  type PreflightFacts,
  pluginSpec,
  preflightProblems,
  resolvePluginSpecInput,
} from './spec/index.ts';
export {
  CappedLog,
  DEFAULT_UNPACK_LIMITS,
  extractLayer,
  followCappedLog,
  type LoadReport,
  type PluginState,
  PluginStore,
  readCappedLog,
  type UnpackLimits,
  unpackDirectory,
  unpackTar,
} from './store/index.ts';
export {
  type ActivateAnswer,
  activate,
  askActivate,
  type Clock,
  canConnect,
  FakeClock,
  implementsMismatch,
  type PluginEvent,
  type PluginFilters,
  PluginManager,
  type PluginManagerOptions,
  type PluginRunState,
  type PluginSource,
  type PluginStatus,
  systemClock,
  waitForSocket,
} from './supervision/index.ts';
