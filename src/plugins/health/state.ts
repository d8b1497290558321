/**
 * A plugin's health as Docker keeps a container's (moby daemon/health.go): a status, the failing streak and the
 * last five probe results. Pure: the monitor feeds each probe result in and acts on the transitions.
 *
 * - a passing probe resets the streak and makes the plugin `healthy`;
 * - a failing probe adds to the streak, and at `retries` makes it `unhealthy`; except while it is still
 *   `starting` (never passed) within the start period, when failures do not count;
 * - a plugin starts (and restarts) `starting`.
 *
 * @module
 */

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe, as Docker's `HealthcheckResult`: exit code 0 passed, 1 failed, -1 could not run (timed out). */
export interface ProbeResult {
  readonly Start: string;
  readonly End: string;
  readonly ExitCode: number;
  readonly Output: string;
}

/** Docker's `Health` object. */
export interface HealthState {
  readonly Status: HealthStatus;
  readonly FailingStreak: number;
  readonly Log: readonly ProbeResult[];
}

/** Docker keeps this many probe results. */
export const MAX_LOG_ENTRIES = 5;

export function initialHealth(): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

export interface ProbeContext {
  readonly retries: number;
  /** Whether the probe started within the start period (counted from when the plugin started). */
  readonly inStartPeriod: boolean;
}

/** The health after one probe result, and whether its status changed (a `health_status` event is due). */
export function afterProbe(
  state: HealthState,
  result: ProbeResult,
  ctx: ProbeContext,
): { readonly state: HealthState; readonly changed: boolean } {
  const Log = [...state.Log, result].slice(-MAX_LOG_ENTRIES);
  let { Status, FailingStreak } = state;
  if (result.ExitCode === 0) {
    Status = 'healthy';
    FailingStreak = 0;
  } else if (!(state.Status === 'starting' && ctx.inStartPeriod)) {
    FailingStreak++;
    if (FailingStreak >= ctx.retries) Status = 'unhealthy';
  }
  return { state: { Status, FailingStreak, Log }, changed: Status !== state.Status };
}
