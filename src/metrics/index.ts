/** berthd's Prometheus metrics: the registry, what feeds it (observers of the lower layers) and its listener. */
export { ApiMetrics } from './api-metrics.ts';
export { BerthMetrics, type BerthMetricsOptions } from './berth-metrics.ts';
export {
  HEALTH_ACTION,
  healthOf,
  PLUGIN_HEALTH,
  type PluginEventLike,
  type PluginHealth,
  type PluginLike,
  PluginMetrics,
} from './plugin-metrics.ts';
export { kindLabel, RpcMetrics } from './rpc-metrics.ts';
export { RuntimeMetrics } from './runtime-metrics.ts';
export { type MetricsListen, type MetricsServer, serveMetrics } from './server.ts';
