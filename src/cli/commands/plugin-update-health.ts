/**
 * The health part of `berth plugin update`: docker's health flags (`--health-interval 10s`, Go durations) to
 * the `Health` object of `POST /plugins/{name}/update`. Pure, so the flag → body mapping is table-tested.
 *
 * @module
 */
import type { Command } from 'commander';
import { InvalidParameterError } from '../../errdefs/index.ts';
import { parseGoDuration } from '../go-duration.ts';

export interface HealthFlags {
  readonly healthInterval?: string;
  readonly healthTimeout?: string;
  readonly healthStartPeriod?: string;
  readonly healthRetries?: string;
  /** `--healthcheck` → true, `--no-healthcheck` → false, neither → undefined. */
  readonly healthcheck?: boolean;
}

export function addHealthOptions(command: Command): Command {
  return command
    .option('--health-interval <duration>', 'time between probes, e.g. 10s (default 30s; 0 = default)')
    .option('--health-timeout <duration>', 'how long a probe may take, e.g. 2s (default 5s; 0 = default)')
    .option('--health-start-period <duration>', 'failures this soon after a start do not count (default 0s)')
    .option('--health-retries <n>', 'consecutive failures that make it unhealthy (default 3; 0 = default)')
    .option('--healthcheck', 'turn the health check back on')
    .option('--no-healthcheck', 'turn the health check off');
}

function duration(flag: string, text: string): number {
  const ns = parseGoDuration(text, flag);
  if (ns < 0) throw new InvalidParameterError(`${flag} cannot be negative, got ${text}`);
  return ns;
}

/** The `Health` part of the update body, or undefined when no health flag was given. */
export function healthBody(f: HealthFlags): Record<string, number | boolean> | undefined {
  const timing = [f.healthInterval, f.healthTimeout, f.healthStartPeriod, f.healthRetries].some(
    (v) => v !== undefined,
  );
  if (f.healthcheck === false && timing)
    throw new InvalidParameterError('--no-healthcheck conflicts with --health-* options');
  const out: Record<string, number | boolean> = {};
  if (f.healthInterval !== undefined) out.Interval = duration('--health-interval', f.healthInterval);
  if (f.healthTimeout !== undefined) out.Timeout = duration('--health-timeout', f.healthTimeout);
  if (f.healthStartPeriod !== undefined)
    out.StartPeriod = duration('--health-start-period', f.healthStartPeriod);
  if (f.healthRetries !== undefined) {
    if (!/^\d+$/.test(f.healthRetries))
      throw new InvalidParameterError(
        `--health-retries must be a non-negative integer, got "${f.healthRetries}"`,
      );
    out.Retries = Number(f.healthRetries);
  }
  if (f.healthcheck !== undefined) out.Disable = !f.healthcheck;
  return Object.keys(out).length ? out : undefined;
}
