/**
 * Plugin RPC metrics, fed by the plugin clients' observer: latency of every call by plugin and method (errors
 * included), and failed calls by error kind.
 *
 * @module
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { type ErrorKind, kindOf } from '../errdefs/index.ts';
import type { RpcObserver } from '../plugins/index.ts';
import type { SeriesByPlugin } from './series.ts';

/** `Deadline` → `deadline`, `NotFound` → `not_found`: Prometheus label values are snake case. */
export function kindLabel(kind: ErrorKind): string {
  return kind.replace(/[A-Z]/g, (c, at: number) => (at ? '_' : '') + c.toLowerCase());
}

const RPC_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class RpcMetrics implements RpcObserver {
  readonly #series: SeriesByPlugin;
  readonly #calls: Histogram<'plugin' | 'method'>;
  readonly #errors: Counter<'plugin' | 'method' | 'kind'>;

  constructor(registry: Registry, series: SeriesByPlugin) {
    this.#series = series;
    this.#calls = new Histogram({
      name: 'berth_plugin_rpc_duration_seconds',
      help: 'Calls berthd made to plugins (retries included), by plugin and method, errors too',
      labelNames: ['plugin', 'method'],
      buckets: RPC_BUCKETS,
      registers: [registry],
    });
    this.#errors = new Counter({
      name: 'berth_plugin_rpc_errors_total',
      help: 'Calls to plugins that failed, by kind (deadline: no answer in time; unavailable: not reachable; system: an error answer or a broken connection)',
      labelNames: ['plugin', 'method', 'kind'],
      registers: [registry],
    });
  }

  callDone(plugin: string, method: string, seconds: number, error?: unknown): void {
    const labels = { plugin, method };
    this.#calls.observe(labels, seconds);
    this.#series.track(plugin, `rpc ${method}`, () => this.#calls.remove(labels));
    if (error === undefined) return;
    const failed = { plugin, method, kind: kindLabel(kindOf(error)) };
    this.#errors.inc(failed);
    this.#series.track(plugin, `rpc ${method} ${failed.kind}`, () => this.#errors.remove(failed));
  }
}
