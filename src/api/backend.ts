/**
 * What the API layer needs from the daemon (moby's router/backend split): routes translate HTTP to calls on
 * these ports (api/ports.ts) and never touch disks, processes or configuration themselves.
 *
 * @module
 */
import type {
  AuthzPort,
  DistributionPort,
  EventsPort,
  PluginLogsPort,
  PluginsPort,
  RunsPort,
  RuntimesPort,
  StartupPort,
  SystemFacts,
  VolumesPort,
} from './ports.ts';

export interface Backend {
  readonly system: SystemFacts;
  readonly plugins: PluginsPort;
  readonly pluginLogs: PluginLogsPort;
  readonly distribution: DistributionPort;
  readonly runtimes: RuntimesPort;
  readonly volumes: VolumesPort;
  readonly runs: RunsPort;
  readonly events: EventsPort;
  /** The authorization chain; absent in tests that do not need one. */
  readonly authz?: AuthzPort;
  /** berthd's start; absent where the server only listens once everything is ready (tests). */
  readonly startup?: StartupPort;
}
