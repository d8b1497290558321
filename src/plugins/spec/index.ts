/** A plugin's OCI spec: assembled from its Plugin object, and checked against the host before it runs. */
export { type PreflightFacts, preflightProblems } from './preflight.ts';
export {
  METRICS_COLLECTOR_TYPE,
  METRICS_SOCKET_IN_CONTAINER,
  mergeMounts,
  PLUGIN_SOCKET_DIR_IN_CONTAINER,
  type PluginSpecInput,
  pluginSpec,
} from './spec.ts';
export {
  buildPluginSpec,
  buildPluginSpecJson,
  type PluginPaths,
  resolvePluginSpecInput,
} from './spec-input.ts';
export { pluginSpecJson } from './spec-json.ts';
