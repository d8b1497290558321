/** The Plugin object and its manifest: schema, decoding, validation, names, settings and privileges. */
export { decodePlugin } from './decode.ts';
export {
  applyHealthUpdate,
  DEFAULT_HEALTH,
  decodeHealthUpdate,
  decodeStoredHealth,
  type EffectiveHealth,
  effectiveHealth,
  HEALTH_FIELDS,
  type HealthConfig,
  healthConfigView,
} from './health-config.ts';
export {
  decodeManifest,
  decodeManifestWithWarnings,
  KNOWN_INTERFACES,
  manifestProblems,
  SETTABLE_FIELDS,
  validateManifest,
} from './manifest.ts';
export { isIdPrefix, normalizeName, type PluginReference, parseReference } from './plugin-name.ts';
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
export {
  applyResources,
  CPU_PERIOD_US,
  hasResources,
  MIN_MEMORY_BYTES,
  ociResources,
  type PluginResources,
  PluginResourcesSchema,
  parseCpus,
  parseInteger,
  parseSize,
  resourceProblem,
} from './resources.ts';
export { applySettings } from './set.ts';
export { initialSettings, upgradeSettings } from './settings.ts';
export { decodePluginUpdate, type PluginUpdate, PluginUpdateSchema } from './update.ts';
