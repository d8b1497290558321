export { decodePlugin } from './decode.ts';
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
