/**
 * The real services behind the API's ports (api/ports.ts). Most services already answer a port's calls as they
 * are; what they do not (where a plugin's log file lives, where the runtime configuration is re-read from) is
 * adapted here, so `api/` never learns about files or classes.
 *
 * @module
 */
import type {
  AuthzPort,
  Backend,
  DaemonFacts,
  DistributionPort,
  EventsPort,
  ExecutorFacts,
  PluginLogsPort,
  RunsPort,
  StartupPort,
  VolumesPort,
} from '../api/index.ts';
import { followCappedLog, type PluginManager, readCappedLog } from '../plugins/index.ts';
import type { ReloadDiff, RuntimeManager, RuntimeSet } from '../runtimes/index.ts';

/** A plugin's log is the capped file beside its state (`<dataRoot>/plugins/<id>/plugin.log`). */
export function pluginLogsPort(plugins: PluginManager): PluginLogsPort {
  const pathOf = (ref: string) => plugins.logPath(plugins.resolve(ref));
  return {
    read: (ref) => readCappedLog(pathOf(ref)),
    // Resolved before the stream starts: an unknown plugin is a 404, not a broken stream.
    follow: (ref, signal) => followCappedLog(pathOf(ref), signal),
  };
}

export interface ApiServices {
  readonly facts: DaemonFacts;
  readonly warnings?: () => readonly string[];
  readonly executor?: () => Promise<ExecutorFacts>;
  readonly plugins: PluginManager;
  readonly distribution: DistributionPort;
  readonly runtimes: RuntimeManager;
  /** Re-reads the configuration and reloads `runtimes` (the daemon's SIGHUP path). */
  readonly reloadRuntimes: () => Promise<{ diff: ReloadDiff; set: RuntimeSet }>;
  readonly volumes: VolumesPort;
  readonly runs: RunsPort;
  readonly events: EventsPort;
  readonly authz?: AuthzPort;
  readonly startup?: StartupPort;
}

/** The Engine API's backend over the daemon's services. */
export function apiBackend(s: ApiServices): Backend {
  const { runtimes } = s;
  return {
    system: {
      facts: s.facts,
      warnings: s.warnings ?? (() => []),
      ...(s.executor ? { executor: s.executor } : {}),
    },
    plugins: s.plugins,
    pluginLogs: pluginLogsPort(s.plugins),
    distribution: s.distribution,
    runtimes: {
      current: () => runtimes.current(),
      inspect: (name) => runtimes.inspect(name),
      check: (name) => runtimes.check(name),
      reload: s.reloadRuntimes,
    },
    volumes: s.volumes,
    runs: s.runs,
    events: s.events,
    ...(s.authz ? { authz: s.authz } : {}),
    ...(s.startup ? { startup: s.startup } : {}),
  };
}
