/**
 * The plugin manager: create, set, enable, disable, remove, list and inspect managed plugins, run as real
 * containers through the runtime registry and executor, supervised and restored after a restart.
 *
 * Every operation on one plugin runs under that plugin's lock, so concurrent enable/disable/set/remove
 * serialise; a create reserves its name before unpacking. The persisted state is only the Plugin object
 * (with `Enabled` as the desired state) and the chosen runtime; the live status is in memory.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../../errdefs/index.ts';
import type { ExitStatus, RuncExecutor, RunningContainer } from '../../executor/index.ts';
import { socketAddress } from '../../host/index.ts';
import type { RuncRuntime, RuntimeManager } from '../../runtimes/index.ts';
import type { Plugin, PluginConfig } from '../model/index.ts';
import {
  applySettings,
  decodeManifestWithWarnings,
  initialSettings,
  isIdPrefix,
  normalizeName,
  upgradeSettings,
  validateManifest,
} from '../model/index.ts';
import { PluginClient } from '../rpc/index.ts';
import { buildPluginSpec, type PreflightFacts, preflightProblems } from '../spec/index.ts';
import {
  CappedLog,
  type PluginState,
  PluginStore,
  type UnpackedContext,
  unpackDirectory,
  unpackTar,
} from '../store/index.ts';
import { type ActivateAnswer, askActivate, implementsMismatch, waitForSocket } from './readiness.ts';

export type PluginRunState = 'disabled' | 'starting' | 'running' | 'restarting' | 'stopping' | 'failed';

/** berth's live view of a plugin, shown beside Docker's Plugin object. */
export interface PluginStatus {
  readonly State: PluginRunState;
  readonly Pid: number;
  readonly Runtime: string;
  readonly Restarts: number;
  readonly StartedAt: string;
  readonly LastError: string;
  readonly LastExitCode: number | null;
  readonly Warnings: string[];
  readonly RefCount: number;
}

/** A plugin event, shaped like the Engine API's. */
export interface PluginEvent {
  readonly Type: 'plugin';
  readonly Action: 'create' | 'pull' | 'enable' | 'disable' | 'remove' | 'crash' | 'restart' | 'failed';
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> };
  readonly time: number;
  readonly timeNano: number;
}

export interface PluginManagerOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly runtimes: RuntimeManager;
  readonly executor: RuncExecutor;
  readonly preflight: PreflightFacts;
  /** How long enable waits for the socket. */
  readonly readyTimeoutMs?: number;
  /** How long enable waits for `Plugin.Activate` (best effort; no answer is a warning, not an error). */
  readonly activateTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace at disable. */
  readonly stopGraceMs?: number;
  /** Per-plugin log cap (the file rotates once: at most twice this on disk). */
  readonly logMaxBytes?: number;
  /** Crash loop: this many failures within `failureWindowMs` mark the plugin failed. */
  readonly maxFailures?: number;
  readonly failureWindowMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

interface Entry {
  state: PluginState;
  status: {
    state: PluginRunState;
    pid: number;
    runtime: string;
    restarts: number;
    startedAt: string;
    lastError: string;
    lastExitCode: number | null;
    warnings: string[];
  };
  container: RunningContainer | undefined;
  cli: RuncRuntime['cli'] | undefined;
  logFile: CappedLog | undefined;
  client: PluginClient | undefined;
  failures: number[];
  restartTimer: NodeJS.Timeout | undefined;
  /** Set while disable/remove stops it: an exit then is expected. */
  stopping: boolean;
  lock: Promise<unknown>;
  refs: number;
}

/** Filters of `GET /plugins`. */
export interface PluginFilters {
  readonly enabled?: boolean;
  readonly capability?: readonly string[];
}

/**
 * Where a new plugin comes from: a context directory, a context tar, or a fetch that fills a staging directory
 * (a registry pull) and names the remote it came from.
 */
export type PluginSource =
  | { readonly dir: string }
  | { readonly tar: Readable }
  | { readonly fetch: (staging: string) => Promise<UnpackedContext>; readonly reference: string };

const DEFAULTS = {
  readyTimeoutMs: 10_000,
  activateTimeoutMs: 2_000,
  stopGraceMs: 10_000,
  logMaxBytes: 1 << 20,
  maxFailures: 5,
  failureWindowMs: 60_000,
  backoffBaseMs: 100,
  backoffMaxMs: 10_000,
};

export class PluginManager extends EventEmitter<{ event: [PluginEvent] }> {
  readonly store: PluginStore;
  readonly #o: PluginManagerOptions & typeof DEFAULTS;
  readonly #entries = new Map<string, Entry>();
  /** Names being created (reserved before the slow unpack). */
  readonly #creating = new Set<string>();
  #closing = false;

  constructor(options: PluginManagerOptions) {
    super();
    this.#o = { ...DEFAULTS, ...options };
    this.store = new PluginStore(options.dataRoot);
  }

  /** Socket directories: `<exec-root>/plugins/<id>`, bound at /run/docker/plugins in the plugin. */
  get socketRoot(): string {
    return join(this.#o.execRoot, 'plugins');
  }

  socketDir(id: string): string {
    return join(this.socketRoot, id);
  }

  logPath(id: string): string {
    return join(this.store.dir(id), 'plugin.log');
  }

  #bundleDir(id: string): string {
    return join(this.#o.execRoot, 'plugin-bundles', id);
  }

  /** Loads the store and re-enables, in parallel, the plugins that were enabled. */
  async init(): Promise<{ broken: { id: string; reason: string }[]; restored: string[]; failed: string[] }> {
    const report = this.store.load();
    rmSync(join(this.#o.execRoot, 'plugin-bundles'), { recursive: true, force: true });
    for (const state of report.plugins) this.#entries.set(state.plugin.Id, this.#newEntry(state));
    for (const b of report.broken) this.#log('warn', `skipping broken plugin ${b.id}: ${b.reason}`);
    const enabled = [...this.#entries.values()].filter((e) => e.state.plugin.Enabled);
    const results = await Promise.all(
      enabled.map((e) =>
        this.#locked(e, () => this.#start(e)).then(
          () => true,
          (err: Error) => {
            this.#log('error', `restoring plugin ${e.state.plugin.Name} failed: ${err.message}`);
            return false;
          },
        ),
      ),
    );
    return {
      broken: report.broken,
      restored: enabled.filter((_, i) => results[i]).map((e) => e.state.plugin.Name),
      failed: enabled.filter((_, i) => !results[i]).map((e) => e.state.plugin.Name),
    };
  }

  /** Whether a plugin has (or is being created under) this name. @throws {InvalidParameterError} bad name */
  nameTaken(name: string): boolean {
    const normalized = normalizeName(name);
    return (
      this.#creating.has(normalized) ||
      [...this.#entries.values()].some((e) => e.state.plugin.Name === normalized)
    );
  }

  /** Resolves a name, full id or unique id prefix. */
  resolve(ref: string): string {
    if (/^[0-9a-f]{64}$/.test(ref) && this.#entries.has(ref)) return ref;
    let name: string | undefined;
    try {
      name = normalizeName(ref);
    } catch (err) {
      if (!isIdPrefix(ref)) throw err;
    }
    if (name) {
      for (const [id, e] of this.#entries) if (e.state.plugin.Name === name) return id;
    }
    if (isIdPrefix(ref)) {
      const matches = [...this.#entries.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw new InvalidParameterError(`multiple plugins found for "${ref}"`);
      if (matches[0]) return matches[0];
    }
    throw new NotFoundError(`plugin "${ref}" not found`);
  }

  #entry(ref: string): Entry {
    const e = this.#entries.get(this.resolve(ref));
    if (!e) throw new NotFoundError(`plugin "${ref}" not found`);
    return e;
  }

  /** The Engine API Plugin object plus berth's status block. */
  inspect(ref: string): Plugin & { Status: PluginStatus } {
    return this.#view(this.#entry(ref));
  }

  list(filters: PluginFilters = {}): (Plugin & { Status: PluginStatus })[] {
    return this.#matching(filters).map((e) => this.#view(e));
  }

  #matching(filters: PluginFilters): Entry[] {
    return [...this.#entries.values()]
      .filter((e) => filters.enabled === undefined || e.state.plugin.Enabled === filters.enabled)
      .filter((e) => !filters.capability?.length || matchesCapability(e.state.plugin, filters.capability));
  }

  /**
   * Creates a plugin from a directory or a tar stream.
   * @throws {ConflictError} when the name exists; {InvalidParameterError} for a bad name, context or manifest
   */
  async create(name: string, source: PluginSource, o: { runtime?: string } = {}): Promise<Plugin> {
    const normalized = normalizeName(name);
    if (o.runtime) this.#o.runtimes.lookup(o.runtime);
    if (this.nameTaken(normalized)) throw new ConflictError(`plugin ${normalized} already exists`);
    this.#creating.add(normalized);
    const staging = this.store.stage();
    try {
      const ctx = await unpackSource(source, staging);
      const { config, warnings } = decodeManifestWithWarnings(ctx.manifest);
      validateManifest(config);
      const id = randomId();
      const plugin: Plugin = {
        Config: { ...config, DockerVersion: 'fetch' in source ? (config.DockerVersion ?? '') : 'berth' },
        Enabled: false,
        Id: id,
        Name: normalized,
        PluginReference: 'fetch' in source ? source.reference : normalized,
        Settings: initialSettings(config),
      };
      const state: PluginState = {
        plugin,
        ...(o.runtime ? { runtime: o.runtime } : {}),
        ...(warnings.length ? { warnings } : {}),
      };
      this.store.commit(staging, state);
      this.#entries.set(id, this.#newEntry(state));
      this.#log(
        warnings.length ? 'warn' : 'info',
        `created plugin ${normalized} (${id})${warnings.length ? `; manifest warnings: ${warnings.join('; ')}` : ''}`,
      );
      if ('fetch' in source) this.#emit('pull', plugin, undefined, {}, source.reference);
      this.#emit('create', plugin);
      return plugin;
    } catch (err) {
      this.store.discard(staging);
      throw err;
    } finally {
      this.#creating.delete(normalized);
    }
  }

  /** Applies `set` items atomically and persists them. @throws {ConflictError} while enabled */
  set(ref: string, items: readonly string[]): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      if (e.state.plugin.Enabled)
        throw new ConflictError('cannot set on an active plugin, disable plugin before setting');
      const Settings = applySettings(e.state.plugin.Config, e.state.plugin.Settings, items);
      this.#persist(e, { ...e.state, plugin: { ...e.state.plugin, Settings } });
    });
  }

  /**
   * Replaces a disabled plugin's rootfs and manifest with a new version (upgrade). `check` sees the new manifest
   * before anything changes (privileges). Settings the user changed are carried over where the new version
   * still declares them; the rest are reported as dropped.
   * @throws {ConflictError} while enabled; whatever `fetch` or `check` throws, with the old version untouched
   */
  upgrade(
    ref: string,
    source: { fetch: (staging: string) => Promise<UnpackedContext>; reference: string },
    check: (config: PluginConfig) => void = () => {},
  ): Promise<{ kept: string[]; dropped: string[] }> {
    return this.#lockedPlugin(ref, async (e) => {
      const old = e.state.plugin;
      if (old.Enabled)
        throw new ConflictError(`plugin must be disabled before upgrading: plugin ${old.Name} is enabled`);
      const staging = this.store.stage();
      try {
        const ctx = await source.fetch(staging);
        const { config, warnings } = decodeManifestWithWarnings(ctx.manifest);
        validateManifest(config);
        check(config);
        const merge = upgradeSettings(old.Config, old.Settings, config);
        const plugin: Plugin = {
          ...old,
          Config: config,
          PluginReference: source.reference,
          Settings: merge.settings,
        };
        const { warnings: _old, ...rest } = e.state;
        const state: PluginState = { ...rest, plugin, ...(warnings.length ? { warnings } : {}) };
        this.store.replaceRootfs(ctx.rootfs, state);
        e.state = state;
        this.#emit('pull', plugin, undefined, {}, source.reference);
        return { kept: merge.kept, dropped: merge.dropped };
      } finally {
        this.store.discard(staging);
      }
    });
  }

  /** Chooses the runtime a plugin runs with (beyond Docker: dockerd always uses the default). */
  setRuntime(ref: string, runtime: string | undefined): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      if (e.state.plugin.Enabled)
        throw new ConflictError('cannot change the runtime of an active plugin, disable it first');
      if (runtime) this.#o.runtimes.lookup(runtime);
      const { runtime: _old, ...rest } = e.state;
      this.#persist(e, runtime ? { ...rest, runtime } : rest);
    });
  }

  /** Starts the plugin and waits until its socket answers. @throws {ConflictError} when already enabled */
  enable(ref: string, o: { timeoutMs?: number } = {}): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      const name = e.state.plugin.Name;
      if (e.state.plugin.Enabled)
        throw new ConflictError(`plugin already enabled: plugin ${name} is enabled`);
      await this.#start(e, o.timeoutMs);
      this.#persist(e, { ...e.state, plugin: { ...e.state.plugin, Enabled: true } });
      this.#emit('enable', e.state.plugin, ref);
    });
  }

  /** Stops the plugin (SIGTERM, grace, SIGKILL). @throws {ConflictError} when disabled, or in use without force */
  disable(ref: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      const name = e.state.plugin.Name;
      if (!e.state.plugin.Enabled)
        throw new ConflictError(`plugin is already disabled: plugin ${name} found but disabled`);
      if (e.refs > 0 && !o.force) throw new ConflictError(`plugin ${name} is in use`);
      await this.#stop(e);
      this.#persist(e, { ...e.state, plugin: { ...e.state.plugin, Enabled: false } });
      this.#emit('disable', e.state.plugin, ref);
    });
  }

  /** Removes the plugin. @throws {ConflictError} when enabled or in use, without force */
  remove(ref: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      const { Name: name, Id: id } = e.state.plugin;
      if (!o.force && e.refs > 0) throw new ConflictError(`plugin ${name} is in use`);
      if (!o.force && e.state.plugin.Enabled) throw new ConflictError(`plugin ${name} is enabled`);
      await this.#stop(e);
      this.store.remove(id);
      this.#entries.delete(id);
      // Every directory of the plugin goes: the socket dir, and a bundle a failed start may have left.
      rmSync(this.socketDir(id), { recursive: true, force: true });
      rmSync(this.#bundleDir(id), { recursive: true, force: true });
      this.#emit('remove', e.state.plugin, ref);
    });
  }

  /**
   * A client for calling an enabled plugin that provides `capability` (e.g. `volumedriver`), as moby's
   * `Get(name, capability)`. Clients are kept per plugin and closed when it is disabled or removed.
   * @throws {ConflictError} when the plugin is disabled; {InvalidParameterError} when it lacks the capability
   */
  client(ref: string, capability: string): PluginClient {
    const e = this.#entry(ref);
    const { Name: name, Config } = e.state.plugin;
    if (!e.state.plugin.Enabled) throw new ConflictError(`plugin ${name} found but disabled`);
    if (!matchesCapability(e.state.plugin, [capability])) {
      throw new InvalidParameterError(`plugin ${name} does not provide "${capability}" capability`);
    }
    e.client ??= new PluginClient(name, this.socketDir(e.state.plugin.Id), Config.Interface.Socket);
    return e.client;
  }

  /**
   * Where a path the plugin reports (a volume's mountpoint) is on the host (moby's `ScopedPath`): under the
   * propagated mount it maps to the plugin's `propagated-mount/` dir, anything else into its rootfs.
   */
  hostPath(ref: string, pathInPlugin: string): string {
    const { Id, Config } = this.#entry(ref).state.plugin;
    const propagated = Config.PropagatedMount.replace(/\/+$/, '');
    if (propagated && (pathInPlugin === propagated || pathInPlugin.startsWith(`${propagated}/`))) {
      return join(this.store.propagatedMount(Id), pathInPlugin.slice(propagated.length));
    }
    return join(this.store.rootfs(Id), pathInPlugin);
  }

  /** Counts a user of the plugin (a volume, say): disable and remove then need force. */
  acquire(ref: string): void {
    this.#entry(ref).refs++;
  }

  release(ref: string): void {
    const e = this.#entry(ref);
    e.refs = Math.max(0, e.refs - 1);
  }

  /** Stops every plugin for daemon shutdown; `Enabled` stays, so they come back at the next start. */
  async shutdown(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [...this.#entries.values()].map((e) => this.#locked(e, () => this.#stop(e)).catch(() => undefined)),
    );
  }

  // ---- internals ----

  #newEntry(state: PluginState): Entry {
    return {
      state,
      status: {
        state: 'disabled',
        pid: 0,
        runtime: '',
        restarts: 0,
        startedAt: '',
        lastError: '',
        lastExitCode: null,
        warnings: [],
      },
      container: undefined,
      cli: undefined,
      logFile: undefined,
      client: undefined,
      restartTimer: undefined,
      failures: [],
      stopping: false,
      lock: Promise.resolve(),
      refs: 0,
    };
  }

  /**
   * Runs `work` under the plugin's lock. The plugin is resolved again once the lock is ours: an operation queued
   * behind a remove finds it gone and answers 404 instead of writing into a deleted directory.
   */
  #lockedPlugin<T>(ref: string, work: (e: Entry) => Promise<T>): Promise<T> {
    const e = this.#entry(ref);
    return this.#locked(e, () => {
      if (this.#entries.get(e.state.plugin.Id) !== e)
        return Promise.reject(new NotFoundError(`plugin "${ref}" not found`));
      return work(e);
    });
  }

  #locked<T>(e: Entry, work: () => Promise<T>): Promise<T> {
    const run = e.lock.then(work, work);
    e.lock = run.catch(() => undefined);
    return run;
  }

  #persist(e: Entry, state: PluginState): void {
    this.store.save(state);
    e.state = state;
  }

  /** Builds the spec, runs the container, waits for the socket. On failure nothing is left running. */
  async #start(e: Entry, timeoutMs = this.#o.readyTimeoutMs): Promise<void> {
    const { plugin } = e.state;
    const rt = this.#o.runtimes.runnable(e.state.runtime);
    const socketDir = this.socketDir(plugin.Id);
    const spec = buildPluginSpec(plugin, { rootfs: this.store.rootfs(plugin.Id), execRoot: this.socketRoot });
    const problems = preflightProblems(spec, this.#o.preflight, plugin.Name);
    if (problems.length)
      throw new InvalidParameterError(`cannot enable plugin ${plugin.Name}: ${problems.join('; ')}`);
    rmSync(join(socketDir, plugin.Config.Interface.Socket), { force: true });
    const bundle = this.#bundleDir(plugin.Id);
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    if (plugin.Config.PropagatedMount)
      mkdirSync(this.store.propagatedMount(plugin.Id), { recursive: true, mode: 0o755 });

    e.logFile ??= new CappedLog(this.logPath(plugin.Id), this.#o.logMaxBytes);
    const stderrTail: Buffer[] = [];
    const container = this.#o.executor.start(rt.cli, plugin.Id, bundle, 'pipe');
    e.container = container;
    e.cli = rt.cli;
    e.stopping = false;
    Object.assign(e.status, { state: 'starting', runtime: rt.name, lastError: '', warnings: [] });
    container.stdout?.on('data', (b: Buffer) => e.logFile?.write(b));
    container.stderr?.on('data', (b: Buffer) => {
      e.logFile?.write(b);
      stderrTail.push(b);
      if (stderrTail.length > 20) stderrTail.shift();
    });
    try {
      await this.#awaitReady(e, container, timeoutMs, stderrTail);
    } catch (err) {
      // Whatever failed after the runtime started, the container must not outlive it unsupervised.
      if (!e.status.lastError) e.status.lastError = (err as Error).message;
      await this.#discard(e, container);
      throw err;
    }
    void container.exited.then((status) => this.#onExit(e, container, status));
  }

  /** Waits until the plugin listens and answers Activate (best effort). @throws {SystemError} with the reason */
  async #awaitReady(
    e: Entry,
    container: RunningContainer,
    timeoutMs: number,
    stderrTail: Buffer[],
  ): Promise<void> {
    const { plugin } = e.state;
    const socket = plugin.Config.Interface.Socket;
    const address = socketAddress(this.socketDir(plugin.Id), socket);
    try {
      const ready = await waitForSocket(address.path, container.exited, timeoutMs);
      if (!ready.ready) {
        const exited = ready.why === 'timeout' ? undefined : await container.exited;
        const why = exited
          ? `plugin ${plugin.Name} exited with code ${exited.code} before listening on ${socket}`
          : `plugin ${plugin.Name} did not listen on ${socket} within ${timeoutMs} ms; its container was removed`;
        Object.assign(e.status, {
          state: 'disabled',
          pid: 0,
          lastError: why,
          lastExitCode: exited?.code ?? null,
        });
        const tail = lastLines(Buffer.concat(stderrTail).toString('utf8'), 5);
        throw new SystemError(tail ? `${why}; last output:\n${tail}` : why);
      }
      const warning = activateWarning(
        await askActivate(address.path, this.#o.activateTimeoutMs),
        plugin.Config.Interface.Types ?? [],
        this.#o.activateTimeoutMs,
      );
      Object.assign(e.status, {
        state: 'running',
        pid: container.runtimePid,
        startedAt: new Date().toISOString(),
        warnings: warning ? [warning] : [],
      });
    } finally {
      address.close();
    }
  }

  /** Kills and deletes a container whose start failed, and forgets it. */
  async #discard(e: Entry, container: RunningContainer): Promise<void> {
    const status = await this.#o.executor.destroy(container);
    if (e.container === container) e.container = undefined;
    if (e.status.state !== 'disabled')
      Object.assign(e.status, { state: 'disabled', pid: 0, lastExitCode: status.code });
    rmSync(this.#bundleDir(e.state.plugin.Id), { recursive: true, force: true });
  }

  async #stop(e: Entry): Promise<void> {
    clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    e.stopping = true;
    const c = e.container;
    if (c && e.cli) {
      e.status.state = 'stopping';
      const status = await this.#o.executor.stop(e.cli, c.id, this.#o.stopGraceMs);
      if (status) e.status.lastExitCode = status.code;
    }
    e.container = undefined;
    Object.assign(e.status, { state: 'disabled', pid: 0 });
    e.logFile?.close();
    e.logFile = undefined;
    void e.client?.close();
    e.client = undefined;
    rmSync(this.#bundleDir(e.state.plugin.Id), { recursive: true, force: true });
  }

  /** An exit nobody asked for: counts as a failure unless the plugin is being stopped. */
  #onExit(e: Entry, container: RunningContainer, status: ExitStatus): void {
    if (e.container !== container) return; // replaced or stopped meanwhile
    e.container = undefined;
    rmSync(this.#bundleDir(e.state.plugin.Id), { recursive: true, force: true });
    if (e.stopping || this.#closing) return;
    Object.assign(e.status, { pid: 0, lastExitCode: status.code });
    this.#emit('crash', e.state.plugin, undefined, { exitCode: String(status.code) });
    this.#failed(e, `exited unexpectedly with code ${status.code}`);
  }

  /** Restarts with exponential backoff, or marks the plugin failed after too many failures in the window. */
  #failed(e: Entry, why: string): void {
    const now = Date.now();
    e.failures = [...e.failures.filter((t) => now - t < this.#o.failureWindowMs), now];
    e.status.lastError = why;
    if (e.failures.length >= this.#o.maxFailures) {
      const msg = `${why}; ${e.failures.length} failures within ${this.#o.failureWindowMs / 1000} s: not restarting (disable and enable it again after fixing it)`;
      Object.assign(e.status, { state: 'failed', lastError: msg });
      this.#log('error', `plugin ${e.state.plugin.Name} ${msg}`);
      this.#emit('failed', e.state.plugin);
      return;
    }
    const delay = Math.min(this.#o.backoffBaseMs * 2 ** (e.failures.length - 1), this.#o.backoffMaxMs);
    e.status.state = 'restarting';
    this.#log('warn', `plugin ${e.state.plugin.Name} ${why}; restarting in ${delay} ms`);
    e.restartTimer = setTimeout(() => {
      e.restartTimer = undefined;
      this.#locked(e, async () => {
        const gone = this.#entries.get(e.state.plugin.Id) !== e;
        if (gone || !e.state.plugin.Enabled || e.container || e.stopping || this.#closing) return;
        e.status.restarts++;
        await this.#start(e);
        this.#emit('restart', e.state.plugin);
      }).catch((err: Error) => this.#failed(e, `restart failed: ${err.message}`));
    }, delay);
  }

  #view(e: Entry): Plugin & { Status: PluginStatus } {
    const s = e.status;
    return {
      ...e.state.plugin,
      Status: {
        State: s.state,
        Pid: s.pid,
        Runtime: s.runtime || e.state.runtime || '',
        Restarts: s.restarts,
        StartedAt: s.startedAt,
        LastError: s.lastError,
        LastExitCode: s.lastExitCode,
        Warnings: [...(e.state.warnings ?? []), ...s.warnings],
        RefCount: e.refs,
      },
    };
  }

  #emit(
    action: PluginEvent['Action'],
    plugin: Plugin,
    typed?: string,
    extra: Record<string, string> = {},
    actorId = plugin.Id,
  ): void {
    const now = Date.now();
    this.emit('event', {
      Type: 'plugin',
      Action: action,
      Actor: { ID: actorId, Attributes: { name: typed ?? plugin.Name, ...extra } },
      time: Math.floor(now / 1000),
      timeNano: now * 1e6,
    });
  }

  #log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.#o.log?.(level, msg);
  }
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

/** A hung plugin accepts connections but never answers: say so, it will hang every call made to it. */
function activateWarning(
  answer: ActivateAnswer,
  types: readonly string[],
  timeoutMs: number,
): string | undefined {
  if (!answer.answered) {
    return answer.why === 'timeout'
      ? `Plugin.Activate did not answer within ${timeoutMs} ms: the plugin accepts connections but may be hung, and calls to it may time out`
      : undefined;
  }
  return answer.implements && implementsMismatch(types, answer.implements);
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** A plugin matches if any of its types' capability equals a requested one (or matches it as a regex, as Docker). */
function matchesCapability(plugin: Plugin, wanted: readonly string[]): boolean {
  const caps = (plugin.Config.Interface.Types ?? []).map((t) => /\.([^./]+)\//.exec(t)?.[1] ?? '');
  return wanted.some((w) => {
    const want = w.toLowerCase();
    let re: RegExp | undefined;
    try {
      re = new RegExp(want);
    } catch {
      re = undefined;
    }
    return caps.some((c) => c === want || (re?.test(c) ?? false));
  });
}

function unpackSource(source: PluginSource, staging: string): Promise<UnpackedContext> {
  if ('dir' in source) return Promise.resolve(unpackDirectory(source.dir, staging));
  if ('tar' in source) return unpackTar(source.tar, staging);
  return source.fetch(staging);
}
