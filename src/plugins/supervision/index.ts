/** Running plugins: the manager's commands, the supervisor that starts, stops and restarts them, readiness. */
export { type Cancel, type Clock, FakeClock, systemClock } from './clock.ts';
export type { CommandDone } from './command-timing.ts';
export type { PluginFilters, PluginStatus } from './entry.ts';
export type { PluginEvent } from './events.ts';
export { PluginManager, type PluginManagerOptions } from './manager.ts';
export type { PluginSource } from './new-plugin.ts';
export {
  type ActivateAnswer,
  activate,
  askActivate,
  canConnect,
  implementsMismatch,
  waitForSocket,
} from './readiness.ts';
export type { ReconfigureOptions } from './reconfigure.ts';
export { backoffDelay, decideRestart, type RestartDecision, type RestartPolicy } from './restart-policy.ts';
export { boundedWait, PendingRestores, type RestoreGroups, type RestoreReport } from './restores.ts';
export {
  type PluginHostPaths,
  type PluginRuntimes,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.ts';
export {
  COMMANDS,
  commandRefusal,
  nextRunState,
  type PluginCommand,
  type PluginRunState,
  RUN_TRANSITIONS,
  type RunEvent,
} from './transitions.ts';
