/**
 * Plugin metrics from the plugin manager's observation points: its events (crash, restart, failed, health),
 * its command timings (enable, disable) and its clients' calls (RPC latency and errors), plus gauges read from
 * its list at scrape time (by desired state, run state and health). Series carry the plugin's name; a removed
 * plugin's series are dropped, so dashboards do not keep ghosts.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CommandDone, Plugin, PluginStatus, RpcObserver } from '../plugins/index.ts';
import { RpcMetrics } from './rpc-metrics.ts';
import { SeriesByPlugin } from './series.ts';

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

const COMMAND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

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
  readonly #rpc: RpcMetrics;

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = <L extends string>(name: string, help: string, label: L, collect: () => void) =>
      new Gauge({ name, help, labelNames: [label], registers, collect });
    this.#byState = gauge(
      'berth_plugins',
      'Installed plugins by desired state (enabled or disabled)',
      'state',
      () => this.#collectStates(),
    );
    this.#byRunState = gauge(
      'berth_plugins_run_state',
      'Installed plugins by what their process is doing (failed: the supervisor gave up restarting)',
      'state',
      () => this.#collectRunStates(),
    );
    this.#byHealth = gauge(
      'berth_plugins_health',
      'Enabled plugins by their last health probe result (plugins without health checks are not counted)',
      'health',
      () => this.#collectHealth(),
    );
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
    this.#rpc = new RpcMetrics(registry, this.#series);
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
    this.#rpc.callDone(plugin, method, seconds, error);
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
