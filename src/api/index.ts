export { type ApiOptions, createApi } from './app.ts';
export type { Backend } from './backend.ts';
export { type EngineEvent, type EventInput, EventLog, eventMatches, parseEventTime } from './events.ts';
export type {
  AuthzPort,
  DaemonFacts,
  DistributionPort,
  EventsPort,
  ExecutorFacts,
  LogLine,
  PluginLogsPort,
  PluginsPort,
  PluginView,
  RunHandle,
  RunRequest,
  RunsPort,
  RuntimesPort,
  StartupPort,
  SystemFacts,
  VolumesPort,
} from './ports.ts';
export { observeRequests, type RequestObserver, routeOf, UNMATCHED_ROUTE } from './request-observer.ts';
export { parseRunRequest, RUN_STREAM_TYPE, type RunFrame } from './routes/runs.ts';
export type { ApiServer } from './server/server.ts';
export {
  API_VERSION,
  compareApiVersions,
  MIN_API_VERSION,
  splitVersionPrefix,
  unsupportedVersion,
} from './versions.ts';
export { infoRuntimes, type RuntimeView, runtimeView } from './views.ts';
