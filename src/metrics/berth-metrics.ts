/**
 * berthd's metrics registry: plugins, runtimes and the Engine API, plus prom-client's process and Node.js
 * metrics (`process_*`, `nodejs_*`, under their usual names so stock dashboards work) and `berth_build_info`.
 * A private registry, never prom-client's global one: each daemon (and each test) has its own.
 *
 * @module
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ApiMetrics } from './api-metrics.ts';
import { PluginMetrics } from './plugin-metrics.ts';
import { RuntimeMetrics } from './runtime-metrics.ts';

export interface BerthMetricsOptions {
  readonly version: string;
  /** prom-client's default process metrics (on unless a test turns them off). */
  readonly processMetrics?: boolean;
}

export class BerthMetrics {
  readonly registry = new Registry();
  readonly plugins: PluginMetrics;
  readonly runtimes: RuntimeMetrics;
  readonly api: ApiMetrics;

  constructor(o: BerthMetricsOptions) {
    new Gauge({
      name: 'berth_build_info',
      help: 'Always 1: the berth version as a label',
      labelNames: ['version'],
      registers: [this.registry],
    }).set({ version: o.version }, 1);
    this.plugins = new PluginMetrics(this.registry);
    this.runtimes = new RuntimeMetrics(this.registry);
    this.api = new ApiMetrics(this.registry);
    if (o.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
