/**
 * berthd: wires configuration, the runtime registry, the executor and the API server together, and owns the
 * process lifecycle (pid file, socket, SIGHUP reload, SIGTERM/SIGINT shutdown).
 *
 * @module
 */
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pino, { type Logger } from 'pino';
import { type ApiServer, createApi, EventLog } from '../api/index.ts';
import { InvalidParameterError } from '../errdefs/index.ts';
import { boundingCapabilities, groupId, traceBegin, traceEnd, traceMark } from '../host/index.ts';
import { AuthzChain, PluginDistribution, PluginManager } from '../plugins/index.ts';
import { insecureRegistries } from '../registry/index.ts';
import { pruneWrappers, type ReloadDiff, RuntimeManager, type RuntimeSet } from '../runtimes/index.ts';
import { VolumeService } from '../volumes/index.ts';
import { apiBackend } from './api-adapters.ts';
import {
  authorizationPlugins,
  type DaemonConfig,
  type DaemonFlags,
  insecureRegistryList,
  readConfigFile,
  runtimesSource,
  socketPath,
} from './config.ts';
import { type CriSyncer, criSyncer } from './cri-sync.ts';
import { chooseExecutor, type ExecutorChoice, type ReconcileStage } from './executor-choice.ts';
import { gatherFacts } from './facts.ts';
import {
  loadMetrics,
  observePluginEvents,
  pluginHooks,
  runtimeHooks,
  serveDaemonMetrics,
} from './metrics.ts';
import { claimPidFile, releasePidFile } from './pidfile.ts';
import { startRuns, unmountLeftovers } from './start-runs.ts';
import { Startup } from './startup.ts';
import { type Tuning, tuningFromEnv } from './tuning.ts';

/** The data root's own pid file: a second berthd on the same data root refuses to start. */
export const DATA_ROOT_LOCK = 'berthd.pid';

/** Probe deadlines: a hanging runtime delays start or reload by at most these. */
export const PROBE_COMMAND_TIMEOUT_MS = 2_000;
export const PROBE_SMOKE_TIMEOUT_MS = 10_000;

export interface Daemon {
  readonly config: DaemonConfig;
  readonly app: ApiServer;
  readonly runtimes: RuntimeManager;
  readonly plugins: PluginManager;
  readonly log: Logger;
  /** Resolves once every plugin is restored and what a previous berthd left is cleaned ("berthd ready"). */
  readonly booted: Promise<void>;
  reloadRuntimes(): Promise<{ diff: ReloadDiff; set: RuntimeSet }>;
  /** Stops serving, kills runs, releases the pid file. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: DaemonConfig;
  readonly flags: DaemonFlags;
  readonly version: string;
  readonly log?: Logger;
}

function logDiff(log: Logger, diff: ReloadDiff, set: RuntimeSet): void {
  log.info({ ...diff, generation: set.generation }, 'runtimes loaded');
  for (const rt of set.runtimes.values()) {
    if (rt.probe.health !== 'ok')
      log.warn({ runtime: rt.name, health: rt.probe.health }, rt.probe.reason ?? '');
  }
}

/** Default socket group, used when it exists (like dockerd's "docker" group). */
export const DEFAULT_SOCKET_GROUP = 'berth';

/** The gid to give the socket: the configured group (which must exist), else the `berth` group if present. */
function socketGroup(name: string | undefined): number | undefined {
  const gid = groupId(name ?? DEFAULT_SOCKET_GROUP);
  if (name !== undefined && gid === undefined) {
    throw new InvalidParameterError(
      `group ${name} not found: create it (groupadd ${name}) or choose another with --group`,
    );
  }
  return gid;
}

/** The id of the plugin `name` names, if one is installed. */
function idOf(plugins: PluginManager, name: string): string[] {
  try {
    return [plugins.resolve(name)];
  } catch {
    return [];
  }
}

/** Starts berthd: claims the pid file, loads runtimes, reconciles leftovers, then listens. */
export async function startDaemon(o: StartOptions): Promise<Daemon> {
  const { config } = o;
  traceBegin('boot', 'berthd');
  const log = o.log ?? pino({ level: config.logLevel, base: null }, pino.destination(2));
  mkdirSync(config.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(config.execRoot, { recursive: true, mode: 0o711 });
  // One berthd per pid file, and one per data root whatever pid file it was given.
  const locks = [config.pidfile, join(config.dataRoot, DATA_ROOT_LOCK)];
  claimPidFile(locks[0] as string);
  try {
    claimPidFile(locks[1] as string);
  } catch (err) {
    releasePidFile(locks[0] as string);
    throw err;
  }
  try {
    return await boot(o, log, locks);
  } catch (err) {
    for (const lock of locks) releasePidFile(lock);
    throw err;
  }
}

async function boot(o: StartOptions, log: Logger, locks: readonly string[]): Promise<Daemon> {
  const { config } = o;
  const gid = socketGroup(config.group); // before any work: a bad group is a configuration error
  const tuning = tuningFromEnv();
  const wrapperDir = join(config.dataRoot, 'runtimes');
  // The executor is chosen before the first load: with containerd, shim runtimes are smoke-tested through it.
  let choice: ExecutorChoice | undefined;
  const metrics = await loadMetrics(config, o.version);
  const runtimes = new RuntimeManager({
    ...runtimeHooks(metrics),
    host: {
      execRoot: config.execRoot,
      wrapperDir,
      noPivotRoot: Boolean(process.env.DOCKER_RAMDISK || process.env.BERTH_RAMDISK),
      pathEnv: process.env.PATH ?? '',
    },
    probe: {
      commandTimeoutMs: PROBE_COMMAND_TIMEOUT_MS,
      ...(config.runtimeSmokeTest
        ? { smokeTest: { dir: join(config.execRoot, 'probes'), timeoutMs: PROBE_SMOKE_TIMEOUT_MS } }
        : {}),
      ...(config.containerd
        ? { shimSmoke: (rt, bundle, id, ms) => (choice as ExecutorChoice).shimSmoke(rt, bundle, id, ms) }
        : {}),
    },
  });
  choice = chooseExecutor(config, runtimes, log);
  // Before the runtime probes spawn anything: the helper a previous berthd left, with its children, is taken over.
  log.info(`executor: ${await choice.reattach()}`);
  const first = await runtimes.reload(config.runtimes);
  traceMark('berthd', 'runtimes');
  logDiff(log, first.diff, first.set);
  // Only now, before any container can use one, is it safe to drop scripts of older configurations.
  const keep = new Set(
    [...first.set.runtimes.values()].flatMap((rt) => (rt.kind === 'runc' && rt.wrapper ? [rt.wrapper] : [])),
  );
  const pruned = pruneWrappers(wrapperDir, keep);
  if (pruned.length) log.debug({ pruned }, 'removed unused wrapper scripts');

  log.info(`executor: ${choice.description}`);
  const executor = choice.executor;
  // What boot has started, undone in reverse order if a later step fails: nothing may be left running.
  const undo: (() => Promise<void>)[] = [async () => choice.close(), () => executor.killAll()];
  try {
    const state = { runtimes, set: first.set, choice, gid, tuning, undo, metrics };
    return await bootServices(o, log, locks, state);
  } catch (err) {
    for (const step of undo.reverse()) await step().catch((e: Error) => log.error(`teardown: ${e.message}`));
    throw err;
  }
}

interface BootState {
  readonly runtimes: RuntimeManager;
  readonly set: RuntimeSet;
  readonly choice: ExecutorChoice;
  readonly gid: number | undefined;
  readonly tuning: Tuning;
  readonly undo: (() => Promise<void>)[];
  readonly metrics: Awaited<ReturnType<typeof loadMetrics>>;
}

async function bootServices(
  o: StartOptions,
  log: Logger,
  locks: readonly string[],
  b: BootState,
): Promise<Daemon> {
  const { config, flags } = o;
  const { runtimes, choice, gid, tuning, undo, metrics } = b;
  const executor = choice.executor;
  const reconcile = async (stage: ReconcileStage) => {
    const report = await choice.reconcile(b.set, stage);
    if (Object.keys(report.removed).length)
      log.warn({ removed: report.removed }, 'removed containers left by a previous berthd');
    for (const [name, why] of Object.entries(report.failed))
      log.warn({ runtime: name }, `cannot list leftovers: ${why}`);
  };
  // What cannot be adopted goes before the restore (under runc: all but the plugins berth-spawner kept running),
  // what the restore did not adopt after it.
  await reconcile('before-restore');
  traceMark('berthd', 'reconciled');

  const plugins = new PluginManager({
    dataRoot: config.dataRoot,
    execRoot: config.execRoot,
    runtimes: choice.runtimes,
    executor,
    preflight: { boundingCapabilities: boundingCapabilities(), exists: existsSync },
    activateTimeoutMs: tuning.activateTimeoutMs,
    log: (level, msg) => log[level](msg),
    ...pluginHooks(metrics),
  });
  observePluginEvents(metrics, plugins);
  const events = new EventLog();
  plugins.on('event', (e) => {
    events.publish(e);
    log.info({ plugin: e.Actor.Attributes.name, id: e.Actor.ID }, `plugin ${e.Action}`);
  });
  undo.push(() => plugins.shutdown());
  const loaded = plugins.load();
  const authz = new AuthzChain(plugins, config.authorizationPlugins);
  let insecure = insecureRegistries(config.insecureRegistries);
  const distribution = new PluginDistribution(plugins, {
    insecure: () => insecure,
    onPlainHttp: (message) => log.warn(message),
  });
  const volumes = new VolumeService(plugins, config.dataRoot, {
    listTimeoutMs: tuning.volumeListTimeoutMs,
    answerTimeoutMs: tuning.volumeAnswerTimeoutMs,
    restoreWaitMs: tuning.startupHoldTimeoutMs,
  });
  const volumeState = volumes.init();
  for (const driver of volumeState.missingDrivers)
    log.warn(`volumes refer to plugin ${driver}, which is not installed`);
  for (const w of volumeState.warnings) log.error(w);
  const stateWarnings = [
    ...loaded.broken.map((b) => `plugin ${b.id} is broken and was skipped: ${b.reason}`),
    ...volumeState.warnings,
  ];
  const { runs, logging } = startRuns({
    config,
    plugins,
    volumes,
    runtimes: choice.runtimes,
    executor,
    restoreWaitMs: tuning.startupHoldTimeoutMs,
    log,
  });
  // Boot order: authorization plugins first (requests are held until they run), then the others; every
  // enabled plugin is pending from here, so a request that needs one waits for it (docs/ARCHITECTURE.md).
  const authzIds = new Set(authz.names().flatMap((n) => idOf(plugins, n)));
  const restore = plugins.restore((p) => authzIds.has(p.Id));
  const startup = new Startup({
    authzNames: () => authz.names(),
    plugins,
    holdTimeoutMs: tuning.startupHoldTimeoutMs,
  });

  let syncCri: CriSyncer | undefined;
  const reloadRuntimes = async () => {
    const file = readConfigFile(config.configFile);
    const result = await runtimes.reload(runtimesSource(flags, file));
    authz.setNames(authorizationPlugins(flags, file));
    insecure = insecureRegistries(insecureRegistryList(flags, file));
    logDiff(log, result.diff, result.set);
    syncCri?.(result.set);
    const names = [...result.set.runtimes.values()].map(
      (rt) => `${rt.name}:${rt.kind === 'runc' ? rt.path : rt.runtimeType}`,
    );
    events.publish({
      Type: 'daemon',
      Action: 'reload',
      Actor: {
        ID: facts.id,
        Attributes: {
          'default-runtime': result.set.defaultRuntime,
          runtimes: names.join(' '),
          name: facts.name,
        },
      },
    });
    return result;
  };
  const facts = gatherFacts(o.version, config.dataRoot, config.execRoot);
  if (config.criSync) {
    syncCri = criSyncer(config.criSync, log, events, facts);
    syncCri(runtimes.current());
  }
  const backend = apiBackend({
    facts,
    events,
    runtimes,
    plugins,
    distribution,
    volumes,
    authz,
    startup,
    warnings: () => stateWarnings,
    executor: async () => {
      const version = config.containerd ? await choice.containerdVersion() : undefined;
      return {
        description: choice.description,
        ...(config.containerd ? { containerd: version ?? { version: '', revision: '' } } : {}),
      };
    },
    reloadRuntimes,
    runs: { run: (request) => runs.run(request), logs: (id, o) => logging.read(id, o) },
  });
  const app = createApi(backend, { loggerInstance: log, bodyIdleTimeoutMs: tuning.bodyIdleTimeoutMs });
  undo.push(() => app.close());
  const closeMetrics =
    metrics && config.metricsAddr
      ? await serveDaemonMetrics(metrics, config.metricsAddr, { plugins, runtimes, app, log })
      : async () => {};
  undo.push(closeMetrics);
  const socket = socketPath(config.host);
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  rmSync(socket, { force: true }); // a socket file left by a killed daemon
  await app.listen({ path: socket });
  chmodSync(socket, 0o660);
  if (gid !== undefined) chownSync(socket, 0, gid);
  traceMark('berthd', 'listening');
  log.info({ socket, dataRoot: config.dataRoot, execRoot: config.execRoot }, 'berthd listening');

  let closing: Promise<void> | undefined;
  const booted = (async () => {
    const first = await restore.first;
    startup.markAuthzReady();
    if (authzIds.size) log.info(first, 'authorization plugins restored');
    const all = await restore.all;
    traceMark('berthd', 'plugins-restored');
    if (closing !== undefined) return; // stopped while restoring: leave the rest to the next start
    await reconcile('after-restore');
    await unmountLeftovers(volumes, log);
    if (all.restored.length || all.failed.length) log.info(all, 'plugins restored');
    traceEnd('berthd');
    log.info('berthd ready');
  })().catch((err: Error) => log.error(`start: ${err.message}`));
  const close = () => {
    closing ??= (async () => {
      // Runs end first (their volumes are unmounted and logging stopped while the plugins still run); the
      // server's close waits for their streams, which end with them.
      await Promise.all([app.close(), runs.shutdown(), closeMetrics()]);
      // Live restore: plugins go on running (under their shims, or berth-spawner's); the next berthd adopts them.
      await plugins.shutdown({ leaveRunning: config.liveRestore });
      if (!config.liveRestore) await executor.killAll();
      await choice.close();
      for (const lock of locks) releasePidFile(lock);
    })();
    return closing;
  };
  return { config, app, runtimes, plugins, log, booted, reloadRuntimes, close };
}
