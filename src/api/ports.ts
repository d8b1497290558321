/**
 * The narrow ports the API layer calls, declared here so that `api/` depends on what routes need and not on the
 * services that happen to provide it (daemon/api-adapters.ts adapts the real ones; src/api/routes.test.ts runs
 * the routes over in-memory fakes). Each port holds only what a route or hook calls; data types of the wire
 * (Plugin, Volume, RuntimeSet…) come from their layers as types.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import type { ExitStatus } from '../executor/index.ts';
import type {
  AuthzRequest,
  AuthzResponse,
  HealthConfig,
  Plugin,
  PluginFilters,
  PluginPrivilege,
  PluginStatus,
  PluginUpdate,
  ReconfigureOptions,
  TransferOptions,
} from '../plugins/index.ts';
import type { RegistryAuth } from '../registry/index.ts';
import type { ReloadDiff, RuntimeSet, RuntimeStatus } from '../runtimes/index.ts';
import type { CreateVolume, Volume } from '../volumes/index.ts';
import type { EngineEvent } from './events.ts';

/** The Engine API Plugin object plus berth's status block, as list and inspect answer it. */
export type PluginView = Plugin & { readonly Status: PluginStatus };

/** Installed plugins: views and the commands of `/plugins/...`. Refs are names, full ids or unique id prefixes. */
export interface PluginsPort {
  list(filters?: PluginFilters): PluginView[];
  /** `JSON.stringify(list(filters))`, byte for byte, or its UTF-8 (the hot path of `GET /plugins`). */
  listJson(filters?: PluginFilters): string | Buffer;
  /** @throws {NotFoundError} no such plugin */
  inspect(ref: string): PluginView;
  /** A plugin from a context tar (plain or gzip); the stream is consumed (or left for the caller to drain). */
  create(name: string, source: { readonly tar: Readable }, o: { runtime?: string }): Promise<unknown>;
  enable(ref: string, o: { timeoutMs?: number }): Promise<void>;
  disable(ref: string, o: { force?: boolean }): Promise<void>;
  /** With `restart` also on an enabled plugin: applied, restarted, rolled back if the restart fails. */
  set(ref: string, items: readonly string[], o?: ReconfigureOptions): Promise<void>;
  /** berth's `POST /plugins/{name}/update`: limits, with set's restart/force rules. */
  update(ref: string, change: PluginUpdate, o?: ReconfigureOptions): Promise<void>;
  /** berth's health check settings (`POST /plugins/{name}/update` `Health`); a running plugin takes them at once. */
  updateHealth(ref: string, update: HealthConfig): Promise<void>;
  remove(ref: string, o: { force?: boolean }): Promise<void>;
}

/** A plugin's captured output (`GET /plugins/{name}/logs`): where it is kept is the daemon's business. */
export interface PluginLogsPort {
  /** What the plugin wrote so far. @throws {NotFoundError} no such plugin */
  read(ref: string): Buffer;
  /**
   * What it wrote so far, then what it writes until `signal` aborts. Resolves `ref` at once, so an unknown
   * plugin is a 404 and not a broken stream. @throws {NotFoundError} no such plugin
   */
  follow(ref: string, signal: AbortSignal): AsyncIterable<Buffer>;
}

/** Registry operations: login, privileges, pull, upgrade, push (progress streamed through the options). */
export interface DistributionPort {
  login(auth: RegistryAuth): Promise<void>;
  privileges(remote: string, auth?: RegistryAuth): Promise<PluginPrivilege[]>;
  pull(
    remote: string,
    o: TransferOptions & { name?: string; privileges?: readonly PluginPrivilege[] },
  ): Promise<unknown>;
  upgrade(
    name: string,
    remote: string,
    o: TransferOptions & { privileges?: readonly PluginPrivilege[] },
  ): Promise<unknown>;
  push(name: string, o: TransferOptions): Promise<unknown>;
}

/** The runtime registry: the live set, its entries, re-probes and a reload of the configuration. */
export interface RuntimesPort {
  current(): RuntimeSet;
  /** @throws {NotFoundError} no such runtime */
  inspect(name: string): RuntimeStatus;
  /** Re-probes one runtime, or all of them; answers the new statuses. */
  check(name?: string): Promise<RuntimeStatus[]>;
  /** Re-reads the configuration file and reloads runtimes; the old set stays on any error. */
  reload(): Promise<{ diff: ReloadDiff; set: RuntimeSet }>;
}

/** Docker's volumes, served by managed volume-driver plugins. */
export interface VolumesPort {
  list(
    filters: ReadonlyMap<string, readonly string[]>,
  ): Promise<{ Volumes: Volume[]; Warnings: string[] | null }>;
  create(req: CreateVolume): Promise<Volume>;
  inspect(name: string): Promise<Volume>;
  remove(name: string, o: { force?: boolean }): Promise<void>;
  prune(): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
}

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

/** Runs: start one, read its log back. */
export interface RunsPort {
  /** @throws {InvalidParameterError} bad request; {UnavailableError} unusable runtime */
  run(request: RunRequest): Promise<RunHandle>;
  /** `GET /runs/{id}/logs` through the run's log driver; absent where berthd has no log drivers. */
  logs?(id: string, o: { follow?: boolean; tail?: number }): Promise<AsyncIterable<LogLine>>;
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

/** What `/version` and `/info` report about the daemon itself. */
export interface SystemFacts {
  readonly facts: DaemonFacts;
  /** Problems with the daemon's own state found at start (kept files that could not be read). */
  warnings(): readonly string[];
  /** The executor in use, and containerd's version when it is containerd and reachable. */
  executor?(): Promise<ExecutorFacts>;
}

/** What `/info` says of the executor. */
export interface ExecutorFacts {
  /** `runc`, or `containerd <socket> (namespace <ns>)`. */
  readonly description: string;
  /** Set when containerd is the executor; `version` is empty while it is unreachable. */
  readonly containerd?: { readonly version: string; readonly revision: string };
}

/** The event log as `GET /events` reads it: a backlog since a time, then live events. */
export interface EventsPort {
  /** Events at or after `sinceNano`, oldest first. */
  since(sinceNano: number): readonly EngineEvent[];
  /** Calls `fn` with every new event until the returned function is called. */
  subscribe(fn: (e: EngineEvent) => void): () => void;
}

/** The authorization chain every request and response goes through. */
export interface AuthzPort {
  /** Names of the authorization plugins in force; none means nothing is checked. */
  active(): readonly string[];
  /** @throws {ForbiddenError} a plugin refused */
  authorizeRequest(req: AuthzRequest): Promise<void>;
  /** @throws {ForbiddenError} a plugin refused */
  authorizeResponse(req: AuthzRequest, res: AuthzResponse): Promise<void>;
}

/**
 * berthd's start (api/startup-gate.ts): it listens before its authorization plugins are restored, and until they
 * are, every request but `/_ping` is held, then served through them, or answered 503 once the hold is over.
 */
export interface StartupPort {
  /** True once the authorization chain is ready; read on every request, so a plain field. */
  readonly authzReady: boolean;
  /** Resolves once it is ready. @throws {UnavailableError} naming the plugin not ready when the hold is over */
  untilAuthzReady(): Promise<void>;
}
