/**
 * Plugin metrics from the plugin manager's observation points: its events (crash, restart, failed, health),
 * its command timings (enable, disable) and its clients' calls (RPC latency and errors), plus gauges read from
 * its list at scrape time (by desired state, run state and health). Series carry the plugin's name; a removed
 * plugin's series are dropped, so dashboards do not keep ghosts.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type ErrorKind, kindOf } from '../errdefs/index.ts';
import type { CommandDone, Plugin, PluginStatus, RpcObserver } from '../plugins/index.ts';

/** What the metrics read of a plugin. */
export type PluginLike = Pick<Plugin, 'Id' | 'Name' | 'Enabled'> & {
  readonly Status: Pick<PluginStatus, 'State'>;
};

/** What the metrics read of an event; `Action` is any string so actions added later (health) pass too. */
export interface PluginEventLike {
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Readonly<Record<string, string>> };
}

export type PluginHealth = 'starting' | 'healthy' | 'unhealthy';
export const PLUGIN_HEALTH: readonly PluginHealth[] = ['starting', 'healthy', 'unhealthy'];
const RUN_STATES: readonly PluginStatus['State'][] = [
  'disabled',
  'starting',
  'running',
  'restarting',
  'stopping',
  'failed',
];

/** The prefix of health events, as Docker's containers have them: `health_status: healthy`. */
export const HEALTH_ACTION = 'health_status';

/** The health an event reports, from its action (`health_status: unhealthy`) or a `health_status` attribute. */
export function healthOf(e: PluginEventLike): PluginHealth | undefined {
  if (!e.Action.startsWith(HEALTH_ACTION)) return undefined;
  const said =
    e.Action.slice(HEALTH_ACTION.length).replace(/^:/, '').trim() || e.Actor.Attributes[HEALTH_ACTION];
  return PLUGIN_HEALTH.find((h) => h === said);
}

/** `Deadline` → `deadline`, `NotFound` → `not_found`: Prometheus label values are snake case. */
export function kindLabel(kind: ErrorKind): string {
  return kind.replace(/[A-Z]/g, (c, at: number) => (at ? '_' : '') + c.toLowerCase());
}

const COMMAND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const RPC_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Per plugin, how to remove each label set it was seen with. */
class SeriesByPlugin {
  readonly #seen = new Map<string, Map<string, () => void>>();

  track(plugin: string, key: string, remove: () => void): void {
    const keys = this.#seen.get(plugin) ?? new Map<string, () => void>();
    if (!keys.has(key)) keys.set(key, remove);
    this.#seen.set(plugin, keys);
  }

  drop(plugin: string): void {
    for (const remove of this.#seen.get(plugin)?.values() ?? []) remove();
    this.#seen.delete(plugin);
  }
}

export class PluginMetrics implements RpcObserver {
  #list: () => readonly PluginLike[] = () => [];
  /** Plugin id → name: events may carry the name as typed (a short id), and a removed plugin is not listed. */
  readonly #names = new Map<string, string>();
  readonly #health = new Map<string, PluginHealth>();
  readonly #series = new SeriesByPlugin();
  readonly #byState: Gauge<'state'>;
  readonly #byRunState: Gauge<'state'>;
  readonly #byHealth: Gauge<'health'>;
  readonly #crashes: Counter<'plugin'>;
  readonly #restarts: Counter<'plugin'>;
  readonly #exhausted: Counter<'plugin'>;
  readonly #enable: Histogram<'plugin' | 'outcome'>;
  readonly #disable: Histogram<'plugin' | 'outcome'>;
  readonly #rpc: Histogram<'plugin' | 'method'>;
  readonly #rpcErrors: Counter<'plugin' | 'method' | 'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#byState = new Gauge({
      name: 'berth_plugins',
      help: 'Installed plugins by desired state (enabled or disabled)',
      labelNames: ['state'],
      registers,
      collect: () => this.#collectStates(),
    });
    this.#byRunState = new Gauge({
      name: 'berth_plugins_run_state',
      help: 'Installed plugins by what their process is doing (failed: the supervisor gave up restarting)',
      labelNames: ['state'],
      registers,
      collect: () => this.#collectRunStates(),
    });
    this.#byHealth = new Gauge({
      name: 'berth_plugins_health',
      help: 'Enabled plugins by their last health probe result (plugins without health checks are not counted)',
      labelNames: ['health'],
      registers,
      collect: () => this.#collectHealth(),
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter({ name, help, labelNames, registers });
    this.#crashes = counter('berth_plugin_crashes_total', 'Unexpected exits of a plugin process', ['plugin']);
    this.#restarts = counter(
      'berth_plugin_restarts_total',
      'Restarts of a crashed plugin by the supervisor',
      ['plugin'],
    );
    this.#exhausted = counter(
      'berth_plugin_restarts_exhausted_total',
      'Times the supervisor gave up restarting a crash-looping plugin (it is then failed)',
      ['plugin'],
    );
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram({ name, help, labelNames, buckets, registers });
    this.#enable = histogram(
      'berth_plugin_enable_duration_seconds',
      'Time an enable took to start the plugin and see its socket answer (outcome: success or error)',
      ['plugin', 'outcome'],
      COMMAND_BUCKETS,
    );
    this.#disable = histogram(
      'berth_plugin_disable_duration_seconds',
      'Time a disable took to stop the plugin (SIGTERM, grace, SIGKILL)',
      ['plugin', 'outcome'],
      COMMAND_BUCKETS,
    );
    this.#rpc = histogram(
      'berth_plugin_rpc_duration_seconds',
      'Calls berthd made to plugins (retries included), by plugin and method, errors too',
      ['plugin', 'method'],
      RPC_BUCKETS,
    );
    this.#rpcErrors = counter(
      'berth_plugin_rpc_errors_total',
      'Calls to plugins that failed, by kind (deadline: no answer in time; unavailable: not reachable; system: an error answer or a broken connection)',
      ['plugin', 'method', 'kind'],
    );
  }

  /** Where the gauges read the plugins from at scrape time; known plugins' counters start at 0. */
  watch(list: () => readonly PluginLike[]): void {
    this.#list = list;
    for (const p of list()) this.#known(p.Id, p.Name);
  }

  /** Maps one plugin manager event onto the metrics. */
  observeEvent(e: PluginEventLike): void {
    const id = e.Actor.ID;
    const health = healthOf(e);
    if (health) {
      this.#health.set(id, health);
      return;
    }
    const name = this.#nameOf(e);
    switch (e.Action) {
      case 'create':
        this.#known(id, name);
        break;
      case 'crash':
        this.#health.delete(id); // the probed process is gone: its health starts again
        this.#crashes.inc({ plugin: name });
        break;
      case 'restart':
        this.#restarts.inc({ plugin: name });
        break;
      case 'failed':
        this.#exhausted.inc({ plugin: name });
        break;
      case 'disable':
        this.#health.delete(id);
        break;
      case 'remove':
        this.#health.delete(id);
        this.#names.delete(id);
        this.#series.drop(name);
        break;
    }
  }

  /** The manager's command timings: enable and disable are measured. */
  commandDone(done: CommandDone): void {
    const histogram =
      done.command === 'enable' ? this.#enable : done.command === 'disable' ? this.#disable : undefined;
    if (!histogram) return;
    const plugin = done.plugin.Name;
    const labels = { plugin, outcome: done.error === undefined ? 'success' : 'error' };
    histogram.observe(labels, done.seconds);
    this.#series.track(plugin, `${done.command} ${labels.outcome}`, () => histogram.remove(labels));
  }

  callDone(plugin: string, method: string, seconds: number, error?: unknown): void {
    const labels = { plugin, method };
    this.#rpc.observe(labels, seconds);
    this.#series.track(plugin, `rpc ${method}`, () => this.#rpc.remove(labels));
    if (error === undefined) return;
    const failed = { plugin, method, kind: kindLabel(kindOf(error)) };
    this.#rpcErrors.inc(failed);
    this.#series.track(plugin, `rpc ${method} ${failed.kind}`, () => this.#rpcErrors.remove(failed));
  }

  /** A plugin's counters exist from its creation (at 0), so the first crash is a visible increase. */
  #known(id: string, name: string): void {
    this.#names.set(id, name);
    const counters = { crashes: this.#crashes, restarts: this.#restarts, exhausted: this.#exhausted };
    for (const [key, counter] of Object.entries(counters)) {
      counter.inc({ plugin: name }, 0);
      this.#series.track(name, key, () => counter.remove({ plugin: name }));
    }
  }

  #nameOf(e: PluginEventLike): string {
    return this.#names.get(e.Actor.ID) ?? e.Actor.Attributes.name ?? e.Actor.ID;
  }

  #collectStates(): void {
    const counts = { enabled: 0, disabled: 0 };
    for (const p of this.#list()) counts[p.Enabled ? 'enabled' : 'disabled']++;
    for (const [state, n] of Object.entries(counts)) this.#byState.set({ state }, n);
  }

  #collectRunStates(): void {
    const counts = new Map(RUN_STATES.map((s) => [s, 0]));
    for (const p of this.#list()) counts.set(p.Status.State, (counts.get(p.Status.State) ?? 0) + 1);
    for (const [state, n] of counts) this.#byRunState.set({ state }, n);
  }

  #collectHealth(): void {
    const counts = new Map(PLUGIN_HEALTH.map((h) => [h, 0]));
    for (const p of this.#list()) {
      const h = p.Enabled ? this.#health.get(p.Id) : undefined;
      if (h) counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    for (const [health, n] of counts) this.#byHealth.set({ health }, n);
  }
}
