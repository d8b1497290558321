export { decodePlugin } from './decode.ts';
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
export { computePrivileges, type PluginPrivilege, privilegesMatch } from './privileges.ts';
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
