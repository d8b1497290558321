/**
 * The plugin manager: create, set, enable, disable, remove, list and inspect managed plugins. It owns the name
 * registry, persistence and the per-plugin lock, and hands running to the {@link Supervisor} (which runs
 * containers through an injected executor) and calling to per-plugin clients.
 *
 * Every operation on one plugin runs under that plugin's lock, so concurrent enable/disable/set/remove
 * serialise; a create reserves its name before unpacking. The persisted state is only the Plugin object
 * (with `Enabled` as the desired state) and the chosen runtime; the live status is in memory.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../errdefs/index.ts';
import type { Executor } from '../../executor/index.ts';
import {
  applySettings,
  decodeManifestWithWarnings,
  normalizeName,
  type Plugin,
  type PluginConfig,
  upgradeSettings,
  validateManifest,
} from '../model/index.ts';
import { PluginClient } from '../rpc/index.ts';
import type { PreflightFacts } from '../spec/index.ts';
import { type PluginState, PluginStore, type UnpackedContext } from '../store/index.ts';
import { type Clock, systemClock } from './clock.ts';
import {
  type Entry,
  matchesCapability,
  matchesFilters,
  newEntry,
  type PluginFilters,
  type PluginStatus,
  viewOf,
  viewsJson,
} from './entry.ts';
import { type EventDetail, type PluginEvent, pluginEvent } from './events.ts';
import { newPluginState, type PluginSource, unpackSource } from './new-plugin.ts';
import { PluginRegistry } from './registry.ts';
import { type PluginRuntimes, Supervisor } from './supervisor.ts';
import { commandRefusal, type PluginCommand } from './transitions.ts';

export interface PluginManagerOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly runtimes: PluginRuntimes;
  readonly executor: Executor;
  readonly preflight: PreflightFacts;
  /** Time for backoff and the failure window (the system clock unless a test drives it). */
  readonly clock?: Clock;
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

type Options = PluginManagerOptions & typeof DEFAULTS & { clock: Clock };

export class PluginManager extends EventEmitter<{ event: [PluginEvent] }> {
  readonly store: PluginStore;
  readonly #o: Options;
  readonly #plugins = new PluginRegistry();
  readonly #supervisor: Supervisor;

  constructor(options: PluginManagerOptions) {
    super();
    this.#o = { ...DEFAULTS, clock: systemClock, ...options };
    this.store = new PluginStore(options.dataRoot);
    this.#supervisor = new Supervisor({
      ...this.#o,
      policy: this.#o,
      paths: {
        socketRoot: this.socketRoot,
        socketDir: (id) => this.socketDir(id),
        bundleDir: (id) => this.#bundleDir(id),
        logPath: (id) => this.logPath(id),
        rootfs: (id) => this.store.rootfs(id),
        propagatedMount: (id) => this.store.propagatedMount(id),
      },
      locked: (e, work) => this.#locked(e, work),
      isCurrent: (e) => this.#plugins.isCurrent(e),
      emit: (action, plugin, extra) => this.#emit(action, plugin, extra ? { extra } : {}),
      log: (level, msg) => this.#log(level, msg),
    });
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
    for (const state of report.plugins) this.#plugins.add(newEntry(state));
    for (const b of report.broken) this.#log('warn', `skipping broken plugin ${b.id}: ${b.reason}`);
    const enabled = this.#plugins.all().filter((e) => e.state.plugin.Enabled);
    const restore = (e: Entry) =>
      this.#locked(e, async () => {
        if (!(await this.#supervisor.adopt(e))) await this.#supervisor.start(e);
      }).then(
        () => true,
        (err: Error) => {
          this.#log('error', `restoring plugin ${e.state.plugin.Name} failed: ${err.message}`);
          return false;
        },
      );
    const results = await Promise.all(enabled.map(restore));
    const names = (ok: boolean) =>
      enabled.filter((_, i) => results[i] === ok).map((e) => e.state.plugin.Name);
    return { broken: report.broken, restored: names(true), failed: names(false) };
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

  /** `JSON.stringify(list(filters))`, cheaper: each Plugin object is serialised once (see viewsJson). */
  listJson(filters: PluginFilters = {}): string {
    return viewsJson(this.#plugins.all().filter((e) => matchesFilters(e, filters)));
  }

  /**
   * Creates a plugin from a directory or a tar stream.
   * @throws {ConflictError} when the name exists; {InvalidParameterError} for a bad name, context or manifest
   */
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

  /** Applies `set` items atomically and persists them. @throws {ConflictError} while enabled */
  set(ref: string, items: readonly string[]): Promise<void> {
    return this.#command('set', ref, {}, async (e) => {
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
    return this.#command('upgrade', ref, {}, async (e) => {
      const staging = this.store.stage();
      try {
        const ctx = await source.fetch(staging);
        const { config, warnings } = decodeManifestWithWarnings(ctx.manifest);
        validateManifest(config);
        check(config);
        const old = e.state.plugin;
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
        this.#emit('pull', plugin, { actorId: source.reference });
        return { kept: merge.kept, dropped: merge.dropped };
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

  /** Starts the plugin and waits until its socket answers. @throws {ConflictError} when already enabled */
  enable(ref: string, o: { timeoutMs?: number } = {}): Promise<void> {
    return this.#command('enable', ref, {}, async (e) => {
      await this.#supervisor.start(e, o.timeoutMs);
      this.#persist(e, { ...e.state, plugin: { ...e.state.plugin, Enabled: true } });
      this.#emit('enable', e.state.plugin, { typed: ref });
    });
  }

  /** Stops the plugin (SIGTERM, grace, SIGKILL). @throws {ConflictError} when disabled, or in use without force */
  disable(ref: string, o: { force?: boolean } = {}): Promise<void> {
    return this.#command('disable', ref, o, async (e) => {
      await this.#stop(e);
      this.#persist(e, { ...e.state, plugin: { ...e.state.plugin, Enabled: false } });
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
      rmSync(this.#bundleDir(id), { recursive: true, force: true });
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
    e.client ??= new PluginClient(name, this.socketDir(e.state.plugin.Id), Config.Interface.Socket);
    return e.client;
  }

  /**
   * Where a path the plugin reports (a volume's mountpoint) is on the host (moby's `ScopedPath`): under the
   * propagated mount it maps to the plugin's `propagated-mount/` dir, anything else into its rootfs.
   */
  hostPath(ref: string, pathInPlugin: string): string {
    const { Id, Config } = this.#plugins.entry(ref).state.plugin;
    const propagated = Config.PropagatedMount.replace(/\/+$/, '');
    if (propagated && (pathInPlugin === propagated || pathInPlugin.startsWith(`${propagated}/`))) {
      return join(this.store.propagatedMount(Id), pathInPlugin.slice(propagated.length));
    }
    return join(this.store.rootfs(Id), pathInPlugin);
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

  /** Runs a command under the plugin's lock once the transition table allows it. @throws {ConflictError} */
  #command<T>(
    command: PluginCommand,
    ref: string,
    o: { force?: boolean },
    work: (e: Entry) => Promise<T>,
  ): Promise<T> {
    return this.#lockedPlugin(ref, (e) => {
      const { Name: name, Enabled: enabled } = e.state.plugin;
      const refused = commandRefusal(command, { name, enabled, inUse: e.refs > 0, force: o.force });
      return refused ? Promise.reject(new ConflictError(refused)) : work(e);
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
