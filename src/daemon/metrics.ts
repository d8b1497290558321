/**
 * berthd's metrics wiring. With `--metrics-addr` the metrics layer is loaded (only then: prom-client costs
 * ~100 ms of start-up) and fed through the lower layers' observation points — the runtime registry's probe
 * observer, the plugin manager's command timings, events and client observer, the API's request observer —
 * then served on its own TCP listener. Without it nothing here runs and the API has no per-request hook.
 *
 * @module
 */
import type { Logger } from 'pino';
import { type ApiServer, observeRequests } from '../api/index.ts';
import { InvalidParameterError } from '../errdefs/index.ts';
import type { BerthMetrics } from '../metrics/index.ts';
import type { PluginManager, PluginManagerOptions } from '../plugins/index.ts';
import type { RuntimeManager, RuntimeManagerOptions } from '../runtimes/index.ts';
import type { DaemonConfig } from './config.ts';
import { formatMetricsAddress, type MetricsAddress } from './metrics-addr.ts';

/** The registry, when metrics are on. */
export async function loadMetrics(config: DaemonConfig, version: string): Promise<BerthMetrics | undefined> {
  if (!config.metricsAddr) return undefined;
  const { BerthMetrics } = await import('../metrics/index.ts');
  return new BerthMetrics({ version });
}

/** The runtime registry's probe observer. */
export function runtimeHooks(m: BerthMetrics | undefined): Pick<RuntimeManagerOptions, 'onProbe'> {
  return m ? { onProbe: (runtime, probe) => m.runtimes.probed(runtime, probe) } : {};
}

/** The plugin manager's observers: command timings and every client call. */
export function pluginHooks(
  m: BerthMetrics | undefined,
): Pick<PluginManagerOptions, 'onCommandDone' | 'rpcObserver'> {
  return m ? { onCommandDone: (done) => m.plugins.commandDone(done), rpcObserver: m.plugins } : {};
}

/** Subscribes to the plugin manager's events; call before it restores plugins, so no crash is missed. */
export function observePluginEvents(m: BerthMetrics | undefined, plugins: PluginManager): void {
  if (m) plugins.on('event', (e) => m.plugins.observeEvent(e));
}

/**
 * Points the gauges at the loaded services, hooks the API (before it listens) and listens on the address.
 * Returns what closes the listener.
 * @throws {InvalidParameterError} naming the flag and address when it cannot listen there
 */
export async function serveDaemonMetrics(
  m: BerthMetrics,
  at: MetricsAddress,
  services: { plugins: PluginManager; runtimes: RuntimeManager; app: ApiServer; log: Logger },
): Promise<() => Promise<void>> {
  const { plugins, runtimes, app, log } = services;
  m.plugins.watch(() => plugins.list());
  m.runtimes.watch(() => runtimes.current());
  observeRequests(app, m.api);
  const { serveMetrics } = await import('../metrics/index.ts');
  let server: Awaited<ReturnType<typeof serveMetrics>>;
  try {
    server = await serveMetrics(at, m);
  } catch (err) {
    throw new InvalidParameterError(
      `metrics-addr ${formatMetricsAddress(at)}: cannot listen there: ${(err as Error).message}`,
    );
  }
  const address = formatMetricsAddress({ host: at.host, port: server.port });
  log.info({ address, url: `http://${address}/metrics` }, 'metrics listening');
  return () => server.close();
}
