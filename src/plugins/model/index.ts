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
// The JSON Schemas TypeBox builds (plugin-schema.ts), generated: berthd does not load TypeBox at run time.
export {
  PluginConfigSchemaJson as PluginConfigSchema,
  PluginSchemaJson as PluginSchema,
  PluginSettingsSchemaJson as PluginSettingsSchema,
} from './plugin-schema.generated.ts';
export type {
  Plugin,
  PluginArgs,
  PluginConfig,
  PluginDevice,
  PluginEnv,
  PluginMount,
  PluginSettings,
} from './plugin-schema.ts';
export { computePrivileges, type PluginPrivilege, privilegesMatch } from './privileges.ts';
export {
  applyResources,
  CPU_PERIOD_US,
  hasResources,
  MIN_MEMORY_BYTES,
  ociResources,
  type PluginResources,
  parseCpus,
  parseInteger,
  parseSize,
  resourceProblem,
} from './resources.ts';
export { applySettings } from './set.ts';
export { initialSettings, upgradeSettings } from './settings.ts';
export { decodePluginUpdate, type PluginUpdate } from './update.ts';
