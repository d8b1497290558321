/**
 * The plugin manager: create, set, enable, disable, remove, list and inspect managed plugins. It owns the name
 * registry, persistence and the per-plugin lock, and hands running to the {@link Supervisor} (which runs
 * containers through an injected executor) and calling to per-plugin clients.
 *
 * Every operation on one plugin runs under that plugin's lock, so concurrent enable/disable/set/remove
 * serialise; a create reserves its name before unpacking. The persisted state is the Plugin object (with
 * `Enabled` as the desired state), the chosen runtime and the health settings; the live status is in memory.
 * @module
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../errdefs/index.ts';
import { traceBegin, traceEnd } from '../../host/index.ts';
import {
  applyHealthUpdate,
  applySettings,
  type HealthConfig,
  normalizeName,
  type Plugin,
  type PluginConfig,
  type PluginUpdate,
} from '../model/index.ts';
import { PluginClient } from '../rpc/index.ts';
import { type PluginState, PluginStore, type UnpackedContext } from '../store/index.ts';
import { systemClock } from './clock.ts';
import { timed } from './command-timing.ts';
import {
  type Entry,
  filtersAny,
  ListingCache,
  matchesCapability,
  matchesFilters,
  newEntry,
  type PluginFilters,
  type PluginStatus,
  viewOf,
} from './entry.ts';
import { type EventDetail, type PluginEvent, pluginEvent } from './events.ts';
import { DEFAULTS, type Options, type PluginManagerOptions } from './manager-options.ts';
import { newPluginState, type PluginSource, unpackSource, upgradedState } from './new-plugin.ts';
import { persistAfter } from './persist-after.ts';
import { pluginHostPaths } from './plugin-paths.ts';
import {
  type ReconfigureOptions,
  type ReconfigureSteps,
  reconfigure,
  reconfigureCommand,
} from './reconfigure.ts';
import { PluginRegistry } from './registry.ts';
import { PendingRestores, type RestoreGroups, type RestoreReport } from './restores.ts';
import { scopedPath } from './scoped-path.ts';
import { type PluginHostPaths, Supervisor } from './supervisor.ts';
import { commandRefusal, type PluginCommand } from './transitions.ts';
import { updatedState } from './update.ts';

export type { PluginManagerOptions } from './manager-options.ts';

export class PluginManager extends EventEmitter<{ event: [PluginEvent] }> {
  readonly store: PluginStore;
  readonly #o: Options;
  readonly #plugins = new PluginRegistry();
  readonly #listing = new ListingCache();
  readonly #supervisor: Supervisor;
  readonly #restores: PendingRestores;
  readonly #paths: PluginHostPaths & { readonly bundlesRoot: string };

  constructor(options: PluginManagerOptions) {
    super();
    this.#o = { ...DEFAULTS, clock: systemClock, ...options };
    this.store = new PluginStore(options.dataRoot);
    this.#paths = pluginHostPaths(this.#o.execRoot, this.store);
    this.#restores = new PendingRestores(this.#o.clock);
    this.#supervisor = new Supervisor({
      ...this.#o,
      policy: this.#o,
      paths: this.#paths,
      locked: (e, work) => this.#locked(e, work),
      isCurrent: (e) => this.#plugins.isCurrent(e),
      emit: (action, plugin, extra) => this.#emit(action, plugin, extra ? { extra } : {}),
      log: (level, msg) => this.#log(level, msg),
    });
  }

  /** Socket directories: `<exec-root>/plugins/<id>`, bound at /run/docker/plugins in the plugin. */
  get socketRoot(): string {
    return this.#paths.socketRoot;
  }

  socketDir(id: string): string {
    return this.#paths.socketDir(id);
  }

  logPath(id: string): string {
    return this.#paths.logPath(id);
  }

  /** Loads the store and re-enables, in parallel, the plugins that were enabled. */
  async init(): Promise<{ broken: { id: string; reason: string }[] } & RestoreReport> {
    const { broken } = this.load();
    return { broken, ...(await this.restore().all) };
  }

  /** Loads the store: every plugin is listed (none runs yet). Broken entries are reported and skipped. */
  load(): { broken: { id: string; reason: string }[] } {
    const report = this.store.load();
    rmSync(this.#paths.bundlesRoot, { recursive: true, force: true });
    for (const state of report.plugins) this.#plugins.add(newEntry(state));
    for (const b of report.broken) this.#log('warn', `skipping broken plugin ${b.id}: ${b.reason}`);
    return { broken: report.broken };
  }

  /**
   * Re-enables the plugins that were enabled: those `first` selects (berthd's authorization plugins), then the
   * others, each group in parallel. All are pending from now on ({@link whenRestored}).
   */
  restore(first: (p: Plugin) => boolean = () => false): RestoreGroups {
    return this.#restores.schedule(
      this.#plugins.all().filter((e) => e.state.plugin.Enabled),
      first,
      (e) =>
        this.#locked(e, async () => {
          // A command that had the lock first (disable, remove) has the last word.
          if (!e.state.plugin.Enabled || !this.#plugins.isCurrent(e)) return;
          traceBegin('restore', e.state.plugin.Id);
          if (!(await this.#supervisor.adopt(e))) await this.#supervisor.start(e);
          traceEnd(e.state.plugin.Id);
        }),
      (e, err) => this.#log('error', `restoring plugin ${e.state.plugin.Name} failed: ${err.message}`),
    );
  }

  /**
   * While plugins are restored at start: resolves once this one's restore is over (it runs, or its start
   * failed), or rejects with `late(name)` after `timeoutMs`. Undefined when none is pending for it (an unknown
   * name, a plugin that was not enabled, and every plugin once the restore is over).
   */
  whenRestored(ref: string, timeoutMs: number, late: (name: string) => Error): Promise<void> | undefined {
    if (!this.#restores.any) return undefined;
    const e = this.#plugins.find(ref);
    return e && this.#restores.wait(e.state.plugin.Id, timeoutMs, () => late(e.state.plugin.Name));
  }

  /** Whether a plugin has (or is being created under) this name. @throws {InvalidParameterError} bad name */
  nameTaken(name: string): boolean {
    return this.#plugins.nameTaken(name);
  }

  /** Resolves a name, full id or unique id prefix. */
  resolve(ref: string): string {
    return this.#plugins.resolve(ref);
  }

  /** The Engine API Plugin object plus berth's status block. */
  inspect(ref: string): Plugin & { Status: PluginStatus } {
    return viewOf(this.#plugins.entry(ref));
  }

  list(filters: PluginFilters = {}): (Plugin & { Status: PluginStatus })[] {
    return this.#plugins
      .all()
      .filter((e) => matchesFilters(e, filters))
      .map(viewOf);
  }

  /** `JSON.stringify(list(filters))` as UTF-8, cheaper (see ListingCache); shared between answers, never to change. */
  listJson(filters: PluginFilters = {}): Buffer {
    const all = this.#plugins.all();
    return this.#listing.json(filtersAny(filters) ? all.filter((e) => matchesFilters(e, filters)) : all);
  }

  /** From a directory or a tar. @throws {ConflictError} name exists; {InvalidParameterError} bad name/context/manifest */
  async create(name: string, source: PluginSource, o: { runtime?: string } = {}): Promise<Plugin> {
    const normalized = normalizeName(name);
    if (o.runtime) this.#o.runtimes.lookup(o.runtime);
    if (this.nameTaken(normalized)) throw new ConflictError(`plugin ${normalized} already exists`);
    this.#plugins.reserve(normalized);
    const staging = this.store.stage();
    try {
      const state = newPluginState(normalized, source, await unpackSource(source, staging), o.runtime);
      const { plugin, warnings = [] } = state;
      this.store.commit(staging, state);
      this.#plugins.add(newEntry(state));
      const said = warnings.length ? `; manifest warnings: ${warnings.join('; ')}` : '';
      this.#log(warnings.length ? 'warn' : 'info', `created plugin ${normalized} (${plugin.Id})${said}`);
      if ('fetch' in source) this.#emit('pull', plugin, { actorId: source.reference });
      this.#emit('create', plugin);
      return plugin;
    } catch (err) {
      this.store.discard(staging);
      throw err;
    } finally {
      this.#plugins.unreserve(normalized);
    }
  }

  /**
   * Applies `set` items atomically; with `restart` also while enabled (see reconfigure.ts).
   * @throws {ConflictError} while enabled without restart (Docker's 409), or in use without force
   */
  set(ref: string, items: readonly string[], o: ReconfigureOptions = {}): Promise<void> {
    return this.#reconfigure('set', ref, o, (e) => {
      const Settings = applySettings(e.state.plugin.Config, e.state.plugin.Settings, items);
      return { ...e.state, plugin: { ...e.state.plugin, Settings } };
    });
  }

  /** berth's limits (`Resources`), with set's `restart`/`force` rules. @throws {InvalidParameterError} bad limit */
  update(ref: string, change: PluginUpdate, o: ReconfigureOptions = {}): Promise<void> {
    return this.#reconfigure('update', ref, o, (e) => updatedState(e.state, change));
  }

  /**
   * Replaces a disabled plugin's rootfs and manifest with a new version (upgrade); `check` sees the new manifest
   * first (privileges). Changed settings the new version still declares are kept; the rest are reported dropped.
   * @throws {ConflictError} while enabled; whatever `fetch` or `check` throws, with the old version untouched
   */
  upgrade(
    ref: string,
    source: { fetch: (staging: string) => Promise<UnpackedContext>; reference: string },
    check: (config: PluginConfig) => void = () => {},
  ): Promise<{ kept: string[]; dropped: string[] }> {
    return this.#command('upgrade', ref, {}, async (e) => {
      const staging = this.store.stage();
      try {
        const ctx = await source.fetch(staging);
        const { state, kept, dropped } = upgradedState(e.state, ctx, source.reference, check);
        this.store.replaceRootfs(ctx.rootfs, state);
        e.state = state;
        this.#emit('pull', state.plugin, { actorId: source.reference });
        return { kept, dropped };
      } finally {
        this.store.discard(staging);
      }
    });
  }

  /** Chooses the runtime a plugin runs with (beyond Docker: dockerd always uses the default). */
  setRuntime(ref: string, runtime: string | undefined): Promise<void> {
    return this.#command('set-runtime', ref, {}, async (e) => {
      if (runtime) this.#o.runtimes.lookup(runtime);
      const { runtime: _old, ...rest } = e.state;
      this.#persist(e, runtime ? { ...rest, runtime } : rest);
    });
  }

  /** Changes the health check (berth's extension), persisted; a running plugin takes it at once. */
  updateHealth(ref: string, update: HealthConfig): Promise<void> {
    return this.#lockedPlugin(ref, async (e) => {
      this.#persist(e, { ...e.state, health: applyHealthUpdate(e.state.health, update) });
      this.#supervisor.healthChanged(e);
    });
  }

  /** Starts the plugin and waits until its socket answers. @throws {ConflictError} when already enabled */
  enable(ref: string, o: { timeoutMs?: number } = {}): Promise<void> {
    return this.#command('enable', ref, {}, async (e) => {
      const next = { ...e.state, plugin: { ...e.state.plugin, Enabled: true } };
      await persistAfter(this.store, e, next, () => this.#supervisor.start(e, o.timeoutMs), 'enable');
      this.#emit('enable', e.state.plugin, { typed: ref });
    });
  }

  /** Stops the plugin (SIGTERM, grace, SIGKILL). @throws {ConflictError} when disabled, or in use without force */
  disable(ref: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#command('disable', ref, o, async (e) => {
      const next = { ...e.state, plugin: { ...e.state.plugin, Enabled: false } };
      await persistAfter(this.store, e, next, () => this.#stop(e), 'disable');
      this.#emit('disable', e.state.plugin, { typed: ref });
    });
  }

  /** Removes the plugin. @throws {ConflictError} when enabled or in use, without force */
  remove(ref: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#command('remove', ref, o, async (e) => {
      const id = e.state.plugin.Id;
      await this.#stop(e);
      this.store.remove(id);
      this.#plugins.delete(id);
      // Every directory of the plugin goes: the socket dir, and a bundle a failed start may have left.
      rmSync(this.socketDir(id), { recursive: true, force: true });
      rmSync(this.#paths.bundleDir(id), { recursive: true, force: true });
      this.#emit('remove', e.state.plugin, { typed: ref });
    });
  }

  /**
   * A client for calling an enabled plugin that provides `capability` (e.g. `volumedriver`), as moby's
   * `Get(name, capability)`. Clients are kept per plugin and closed when it is disabled or removed.
   * @throws {ConflictError} when the plugin is disabled; {InvalidParameterError} when it lacks the capability
   */
  client(ref: string, capability: string): PluginClient {
    const e = this.#plugins.entry(ref);
    const { Name: name, Config } = e.state.plugin;
    if (!e.state.plugin.Enabled) throw new ConflictError(`plugin ${name} found but disabled`);
    if (!matchesCapability(e.state.plugin, [capability])) {
      throw new InvalidParameterError(`plugin ${name} does not provide "${capability}" capability`);
    }
    e.client ??= new PluginClient(name, this.socketDir(e.state.plugin.Id), Config.Interface.Socket, {
      observer: this.#o.rpcObserver,
    });
    return e.client;
  }

  /** Where a path the plugin reports (a volume's mountpoint) is on the host: see {@link scopedPath}. */
  hostPath(ref: string, pathInPlugin: string): string {
    return scopedPath(this.#plugins.entry(ref).state.plugin, this.store, pathInPlugin);
  }

  /** Counts a user of the plugin (a volume, say): disable and remove then need force. */
  acquire(ref: string): void {
    this.#plugins.entry(ref).refs++;
  }

  release(ref: string): void {
    const e = this.#plugins.entry(ref);
    e.refs = Math.max(0, e.refs - 1);
  }

  /**
   * Stops every plugin for daemon shutdown; `Enabled` stays, so they come back at the next start. With
   * `leaveRunning` (live restore) their containers go on and the next berthd adopts them.
   */
  async shutdown(o: { leaveRunning?: boolean } = {}): Promise<void> {
    this.#supervisor.close();
    if (o.leaveRunning) return;
    await Promise.all(
      this.#plugins.all().map((e) => this.#locked(e, () => this.#stop(e)).catch(() => undefined)),
    );
  }

  // ---- internals ----

  /** set/update: plain while disabled or without restart, else applied, restarted, rolled back on failure. */
  #reconfigure(plain: 'set' | 'update', ref: string, o: ReconfigureOptions, next: (e: Entry) => PluginState) {
    return this.#command(reconfigureCommand(plain, o), ref, o, async (e) => {
      const steps: ReconfigureSteps = {
        persist: (x, state) => this.#persist(x, state),
        stop: (x) => this.#stop(x),
        start: (x) => this.#supervisor.start(x),
        log: (level, msg) => this.#log(level, msg),
      };
      if ((await reconfigure(e, next(e), steps)) === 'restarted')
        this.#emit('restart', e.state.plugin, { extra: { reason: 'reconfigure' } });
    });
  }

  /** Runs a command under the plugin's lock once the transition table allows it. @throws {ConflictError} */
  #command<T>(
    command: PluginCommand | ((enabled: boolean) => PluginCommand),
    ref: string,
    o: { force?: boolean },
    work: (e: Entry) => Promise<T>,
  ): Promise<T> {
    return this.#lockedPlugin(ref, (e) => {
      const { Name: name, Enabled: enabled } = e.state.plugin;
      const which = typeof command === 'function' ? command(enabled) : command;
      const refused = commandRefusal(which, { name, enabled, inUse: e.refs > 0, force: o.force });
      if (refused) return Promise.reject(new ConflictError(refused));
      return timed(which, e, work, this.#o.onCommandDone);
    });
  }

  /**
   * Runs `work` under the plugin's lock. The plugin is resolved again once the lock is ours: an operation queued
   * behind a remove finds it gone and answers 404 instead of writing into a deleted directory.
   */
  #lockedPlugin<T>(ref: string, work: (e: Entry) => Promise<T>): Promise<T> {
    const e = this.#plugins.entry(ref);
    return this.#locked(e, () => {
      if (!this.#plugins.isCurrent(e)) return Promise.reject(new NotFoundError(`plugin "${ref}" not found`));
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

  /** The supervisor stops the process; the manager closes what consumers held on it. */
  async #stop(e: Entry): Promise<void> {
    await this.#supervisor.stop(e);
    void e.client?.close();
    e.client = undefined;
  }

  #emit(action: PluginEvent['Action'], plugin: Plugin, detail: EventDetail = {}): void {
    this.emit('event', pluginEvent(action, plugin, this.#o.clock.now(), detail));
  }

  #log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.#o.log?.(level, msg);
  }
}
