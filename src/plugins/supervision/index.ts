/** Running plugins: the manager's commands, the supervisor that starts, stops and restarts them, readiness. */
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
  type ActivateAnswer,
  activate,
  askActivate,
  canConnect,
  implementsMismatch,
  waitForSocket,
} from './readiness.ts';
