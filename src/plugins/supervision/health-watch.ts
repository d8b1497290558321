/**
 * Health checks of running plugins: the supervisor tells this watch when a plugin runs and when it stops; the
 * watch keeps one {@link HealthMonitor} per running plugin (on `e.run.health`) with the plugin's stored
 * settings, emits `health_status: <status>` events as Docker does for containers, and hands a plugin that
 * turned unhealthy back to the supervisor to be restarted.
 *
 * @module
 */
import { socketAddress } from '../../host/index.ts';
import { HealthMonitor, type HealthState, type Probe } from '../health/index.ts';
import { effectiveHealth, type Plugin } from '../model/index.ts';
import type { Clock } from './clock.ts';
import type { Entry } from './entry.ts';
import type { PluginEvent } from './events.ts';

export interface HealthWatchOptions {
  readonly clock: Clock;
  readonly probe: Probe;
  readonly socketDir: (id: string) => string;
  readonly emit: (action: PluginEvent['Action'], plugin: Plugin) => void;
  /** Restarts a plugin that turned unhealthy (only if it still runs that container). */
  readonly unhealthy: (e: Entry, why: string) => void;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export class HealthWatch {
  readonly #o: HealthWatchOptions;
  readonly #monitors = new Set<HealthMonitor>();

  constructor(o: HealthWatchOptions) {
    this.#o = o;
  }

  /** The plugin (re)started: its health starts over at `starting`, unless its health check is off. */
  running(e: Entry): void {
    this.stopped(e);
    const config = effectiveHealth(e.state.health);
    if (config.disabled) return;
    const { Id, Config } = e.state.plugin;
    const monitor: HealthMonitor = new HealthMonitor(
      {
        clock: this.#o.clock,
        probe: this.#o.probe,
        address: () => socketAddress(this.#o.socketDir(Id), Config.Interface.Socket),
        onChange: (state) => this.#changed(e, monitor, state),
      },
      config,
    );
    e.run.health = monitor;
    this.#monitors.add(monitor);
  }

  /** The plugin stopped (or is being stopped): no more probes, no Health in its status. */
  stopped(e: Entry): void {
    const monitor = e.run.health;
    if (!monitor) return;
    monitor.stop();
    this.#monitors.delete(monitor);
    e.run.health = undefined;
  }

  /** The stored settings changed: a running plugin's monitor takes them at once (or starts, or stops). */
  reconfigure(e: Entry): void {
    const config = effectiveHealth(e.state.health);
    const monitor = e.run.health;
    if (config.disabled) this.stopped(e);
    else if (monitor) monitor.reconfigure(config);
    else if (e.run.status.state === 'running' && e.run.container) this.running(e);
  }

  /** Daemon shutdown: every monitor stops. */
  close(): void {
    for (const monitor of this.#monitors) monitor.stop();
    this.#monitors.clear();
  }

  #changed(e: Entry, monitor: HealthMonitor, state: HealthState): void {
    if (e.run.health !== monitor) return;
    const { Name } = e.state.plugin;
    this.#o.emit(`health_status: ${state.Status}`, e.state.plugin);
    if (state.Status !== 'unhealthy') return; // the event says it (berthd logs every event)
    const last = state.Log.at(-1)?.Output ?? '';
    const why = `unhealthy: ${state.FailingStreak} consecutive health probes failed (last: ${last})`;
    this.#o.log('warn', `plugin ${Name} is ${why}`);
    this.#o.unhealthy(e, why);
  }
}
