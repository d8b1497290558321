/**
 * A plugin's health check settings (berth's extension: Docker has none for plugins), shaped like Docker's
 * container `HealthConfig`: durations are integers of nanoseconds, and 0 means "the default", as in Docker.
 * The stored form keeps only what the user set, so the defaults apply to everything else.
 *
 * Probes never overlap: the next one starts `Interval` after the previous one ended, so a `Timeout` longer
 * than the `Interval` is allowed (as Docker allows it).
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import { canonicalKeys, describeUnknownKey, type FieldSchema } from '../../gojson/index.ts';

/** What the user set (every field optional: absent = the default). */
export interface HealthConfig {
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly Retries?: number;
  readonly Disable?: boolean;
}

/** The settings a monitor runs with, in milliseconds. */
export interface EffectiveHealth {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly retries: number;
  readonly disabled: boolean;
}

const NS_PER_MS = 1_000_000;

/** Docker's defaults for a container health check: every 30 s, 5 s timeout, 3 retries, no start period. */
export const DEFAULT_HEALTH: EffectiveHealth = {
  intervalMs: 30_000,
  timeoutMs: 5_000,
  startPeriodMs: 0,
  retries: 3,
  disabled: false,
};

/** Docker's floor for a health check duration (`MinimumDuration`). */
const MINIMUM_NS = NS_PER_MS;

/** The health part of `POST /plugins/{name}/update` as Go decodes it (keys in any case). */
export const HEALTH_FIELDS: FieldSchema = {
  type: 'object',
  properties: { Interval: {}, Timeout: {}, StartPeriod: {}, Retries: {}, Disable: {} },
};

type DurationField = 'Interval' | 'Timeout' | 'StartPeriod';
const DURATIONS: readonly DurationField[] = ['Interval', 'Timeout', 'StartPeriod'];
const DEFAULT_NS: Readonly<Record<DurationField, number>> = {
  Interval: DEFAULT_HEALTH.intervalMs * NS_PER_MS,
  Timeout: DEFAULT_HEALTH.timeoutMs * NS_PER_MS,
  StartPeriod: 0,
};

function duration(field: DurationField, value: unknown, path: string): number {
  const name = `${path}.${field}`;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidParameterError(
      `${name} must be an integer of nanoseconds (e.g. 10000000000 for 10s), got ${JSON.stringify(value)}`,
    );
  }
  if (value !== 0 && value < MINIMUM_NS) {
    throw new InvalidParameterError(
      `${name} cannot be less than 1ms (1000000): got ${value}; use 0 for the default (${DEFAULT_NS[field] / 1e9}s)`,
    );
  }
  return value;
}

function retries(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidParameterError(
      `${path}.Retries must be a non-negative integer, got ${JSON.stringify(value)}; use 0 for the default (${DEFAULT_HEALTH.retries})`,
    );
  }
  return value;
}

/** Checks canonical health fields; returns them with 0 and `false` kept (they reset to the defaults). */
function checked(fields: Record<string, unknown>, path: string): HealthConfig {
  const out: { -readonly [K in keyof HealthConfig]: HealthConfig[K] } = {};
  for (const field of DURATIONS) {
    if (fields[field] !== undefined) out[field] = duration(field, fields[field], path);
  }
  if (fields.Retries !== undefined) out.Retries = retries(fields.Retries, path);
  if (fields.Disable !== undefined) {
    if (typeof fields.Disable !== 'boolean')
      throw new InvalidParameterError(
        `${path}.Disable must be true or false, got ${JSON.stringify(fields.Disable)}`,
      );
    out.Disable = fields.Disable;
  }
  return out;
}

/**
 * Decodes a health update (`{"Interval": 10000000000, "retries": 3}`): keys matched as Go matches them, unknown
 * keys reported as warnings, null or absent = no change.
 * @throws {InvalidParameterError} naming the field, the value and the fix
 */
export function decodeHealthUpdate(
  raw: unknown,
  path = 'Health',
): { update: HealthConfig; warnings: string[] } {
  if (raw === undefined || raw === null) return { update: {}, warnings: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError(
      `${path} must be an object such as {"Interval": 10000000000, "Timeout": 2000000000, "Retries": 3} or {"Disable": true}, got ${JSON.stringify(raw)}`,
    );
  }
  const { value, unknown } = canonicalKeys(raw, HEALTH_FIELDS, path);
  return {
    update: checked(value as Record<string, unknown>, path),
    warnings: unknown.map(describeUnknownKey),
  };
}

/** The stored settings after an update: fields the update names replace, 0 and `false` drop back to defaults. */
export function applyHealthUpdate(current: HealthConfig | undefined, update: HealthConfig): HealthConfig {
  const merged: Record<string, unknown> = { ...current, ...update };
  for (const [k, v] of Object.entries(merged))
    if (v === 0 || v === false || v === undefined) delete merged[k];
  return merged as HealthConfig;
}

/** What a monitor runs with: the stored settings over the defaults. */
export function effectiveHealth(config: HealthConfig | undefined): EffectiveHealth {
  const ms = (ns: number | undefined, fallback: number) =>
    ns ? Math.max(1, Math.round(ns / NS_PER_MS)) : fallback;
  return {
    intervalMs: ms(config?.Interval, DEFAULT_HEALTH.intervalMs),
    timeoutMs: ms(config?.Timeout, DEFAULT_HEALTH.timeoutMs),
    startPeriodMs: ms(config?.StartPeriod, DEFAULT_HEALTH.startPeriodMs),
    retries: config?.Retries || DEFAULT_HEALTH.retries,
    disabled: config?.Disable === true,
  };
}

/** The effective settings as the API shows them (nanoseconds, like the update body). */
export function healthConfigView(config: HealthConfig | undefined): Required<HealthConfig> {
  const e = effectiveHealth(config);
  return {
    Interval: e.intervalMs * NS_PER_MS,
    Timeout: e.timeoutMs * NS_PER_MS,
    StartPeriod: e.startPeriodMs * NS_PER_MS,
    Retries: e.retries,
    Disable: e.disabled,
  };
}

/**
 * Reads the stored settings from a state file; absent (state written before health checks existed) = defaults.
 * @throws {InvalidParameterError} naming the bad field
 */
export function decodeStoredHealth(raw: unknown, path: string): HealthConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  return applyHealthUpdate(undefined, decodeHealthUpdate(raw, path).update);
}
