/** Plugin health checks: the probe, the per-plugin monitor that schedules it, and the pure health state machine. */
export { type HealthClock, HealthMonitor, type HealthMonitorOptions } from './monitor.ts';
export { goDurationText, type Probe, probeActivate } from './probe.ts';
export {
  afterProbe,
  type HealthState,
  type HealthStatus,
  initialHealth,
  MAX_LOG_ENTRIES,
  type ProbeContext,
  type ProbeResult,
} from './state.ts';
