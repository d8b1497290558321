/**
 * What the API layer needs from the daemon (moby's router/backend split): routes translate HTTP to these calls
 * and never touch disks, processes or configuration themselves.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import type { ExitStatus } from '../executor/index.ts';
import type { AuthzChain, PluginDistribution, PluginManager } from '../plugins/index.ts';
import type { ReloadDiff, RuntimeManager, RuntimeSet } from '../runtimes/index.ts';
import type { VolumeService } from '../volumes/index.ts';
import type { EventLog } from './events.ts';

/** `POST /runs`: a command in a container made from Docker's default spec. */
export interface RunRequest {
  readonly runtime?: string;
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly env?: readonly string[];
  readonly cwd?: string;
  readonly readonlyRootfs?: boolean;
  /** `-v` entries: `NAME:/path[:ro]` (a volume) or `/host/dir:/path[:ro]`, as Docker's `HostConfig.Binds`. */
  readonly binds?: readonly string[];
  /** Driver for volumes of `binds` that do not exist yet (`--volume-driver`). */
  readonly volumeDriver?: string;
  /** A log-driver plugin (`--log-driver`), `none`, or absent for the daemon default. */
  readonly logDriver?: string;
  readonly logOpts?: Readonly<Record<string, string>>;
  /** Labels, passed to the log driver as `ContainerLabels`. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A line read back from a run's log driver (`berth logs`). */
export interface LogLine {
  readonly source: 'stdout' | 'stderr';
  readonly line: Buffer;
}

/** A started run: its output streams and its end. */
export interface RunHandle {
  readonly id: string;
  readonly runtime: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves when the container is gone and its bundle cleaned up. */
  readonly exited: Promise<ExitStatus>;
  /** Kills the container (client went away). */
  kill(): Promise<void>;
}

/** Static facts about the daemon for `/version` and `/info`. */
export interface DaemonFacts {
  readonly version: string;
  readonly id: string;
  readonly name: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly kernelVersion: string;
  readonly operatingSystem: string;
  readonly architecture: string;
  readonly ncpu: number;
  readonly memTotal: number;
  readonly cgroupVersion: '1' | '2';
}

export interface Backend {
  readonly facts: DaemonFacts;
  readonly runtimes: RuntimeManager;
  readonly plugins: PluginManager;
  /** Registry operations: privileges, pull, upgrade, push. */
  readonly distribution: PluginDistribution;
  readonly events: EventLog;
  readonly volumes: VolumeService;
  /** The authorization chain; absent in tests that do not need one. */
  readonly authz?: AuthzChain;
  /** Problems with the daemon's own state found at start (kept files that could not be read), for `/info`. */
  readonly warnings?: () => readonly string[];
  /** Re-reads the configuration file and reloads runtimes; the old set stays on any error. */
  reloadRuntimes(): Promise<{ diff: ReloadDiff; set: RuntimeSet }>;
  /** @throws {InvalidParameterError} bad request; {UnavailableError} unusable runtime */
  run(request: RunRequest): Promise<RunHandle>;
  /** `GET /runs/{id}/logs` through the run's log driver; absent where berthd has no log drivers. */
  logs?(id: string, o: { follow?: boolean; tail?: number }): Promise<AsyncIterable<LogLine>>;
}
