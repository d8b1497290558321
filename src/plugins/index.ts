export { AuthzChain, type AuthzRequest, type AuthzResponse } from './authz.ts';
export { CappedLog, followCappedLog, readCappedLog } from './capped-log.ts';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  LONG_CALL_TIMEOUT_MS,
  PLUGIN_MEDIA_TYPE,
  PluginClient,
  type PluginClientOptions,
} from './client.ts';
export { decodePlugin } from './decode.ts';
export {
  type DistributionOptions,
  PluginDistribution,
  type PushResult,
  type TransferOptions,
} from './distribution.ts';
export type { Progress, ProgressMessage } from './fetch.ts';
export {
  type PluginEvent,
  type PluginFilters,
  PluginManager,
  type PluginManagerOptions,
  type PluginRunState,
  type PluginSource,
  type PluginStatus,
} from './manager.ts';
export {
  decodeManifest,
  KNOWN_INTERFACES,
  manifestProblems,
  SETTABLE_FIELDS,
  validateManifest,
} from './manifest.ts';
export type {
  Plugin,
  PluginArgs,
  PluginConfig,
  PluginDevice,
  PluginEnv,
  PluginMount,
  PluginSettings,
} from './plugin-schema.ts';
export { PluginConfigSchema, PluginSchema, PluginSettingsSchema } from './plugin-schema.ts';
export { type PreflightFacts, preflightProblems } from './preflight.ts';
export { computePrivileges, type PluginPrivilege, privilegesMatch } from './privileges.ts';
export {
  type ActivateAnswer,
  activate,
  askActivate,
  canConnect,
  implementsMismatch,
  waitForSocket,
} from './readiness.ts';
export { isIdPrefix, normalizeName, type PluginReference, parseReference } from './reference.ts';
export { applySettings } from './set.ts';
export { initialSettings } from './settings.ts';
export {
  METRICS_COLLECTOR_TYPE,
  METRICS_SOCKET_IN_CONTAINER,
  mergeMounts,
  PLUGIN_SOCKET_DIR_IN_CONTAINER,
  type PluginSpecInput,
  pluginSpec,
} from './spec.ts';
export { buildPluginSpec, type PluginPaths, resolvePluginSpecInput } from './spec-input.ts';
export { type LoadReport, type PluginState, PluginStore } from './store.ts';
export {
  DEFAULT_UNPACK_LIMITS,
  extractLayer,
  type UnpackLimits,
  unpackDirectory,
  unpackTar,
} from './unpack.ts';
