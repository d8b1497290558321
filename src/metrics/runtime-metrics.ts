/**
 * Runtime metrics: each runtime's health from the registry's current set, read at scrape time (a reload that
 * drops a runtime drops its series), and the duration of every probe the registry runs.
 *
 * @module
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { RuntimeHealth, RuntimeProbe, RuntimeSet } from '../runtimes/index.ts';

const HEALTH: readonly RuntimeHealth[] = ['ok', 'degraded', 'unavailable'];
const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class RuntimeMetrics {
  #current: () => RuntimeSet | undefined = () => undefined;
  readonly #health: Gauge<'runtime' | 'health'>;
  readonly #probes: Histogram<'runtime'>;

  constructor(registry: Registry) {
    this.#health = new Gauge({
      name: 'berth_runtime_health',
      help: 'Health of each runtime from its last probe: 1 for the health it has, 0 for the others',
      labelNames: ['runtime', 'health'],
      registers: [registry],
      collect: () => this.#collect(),
    });
    this.#probes = new Histogram({
      name: 'berth_runtime_probe_duration_seconds',
      help: 'Time a runtime probe took (binary, --version, features, smoke run), at load, reload and check',
      labelNames: ['runtime'],
      buckets: PROBE_BUCKETS,
      registers: [registry],
    });
  }

  /** Where the health gauge reads the current set from (undefined or a throw: nothing loaded yet). */
  watch(current: () => RuntimeSet | undefined): void {
    this.#current = current;
  }

  /** The registry's probe observer. */
  probed(runtime: string, probe: RuntimeProbe): void {
    this.#probes.observe({ runtime }, probe.durationMs / 1000);
  }

  #collect(): void {
    this.#health.reset();
    let set: RuntimeSet | undefined;
    try {
      set = this.#current();
    } catch {
      return; // not loaded yet
    }
    for (const rt of set?.runtimes.values() ?? []) {
      for (const health of HEALTH)
        this.#health.set({ runtime: rt.name, health }, rt.probe.health === health ? 1 : 0);
    }
  }
}
