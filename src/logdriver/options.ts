/**
 * The log options berth itself reads (moby `daemon/logger/loggerutils` + `logger.ValidateLogOpts`): `mode`
 * (`blocking`, the default, or `non-blocking`) and `max-buffer-size` (non-blocking only, default 1m). Every
 * option, these included, is also passed to the driver in `Info.Config`, as dockerd does.
 *
 * @module
 */
import { InvalidParameterError } from '../errdefs/index.ts';

export type LogMode = 'blocking' | 'non-blocking';

export interface DeliveryOptions {
  readonly mode: LogMode;
  /** Bytes of lines held while the driver is slow or down (non-blocking); beyond it lines are dropped. */
  readonly maxBufferBytes: number;
}

/** moby `logger.DefaultMaxBufferSize`: 1m. */
export const DEFAULT_MAX_BUFFER_BYTES = 1 << 20;

const UNITS: Record<string, number> = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };

/** A size as go-units `RAMInBytes` reads it: `512`, `64k`, `4m`, `1g`, `1MiB`, `1mb` (binary multiples). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m?.[1]) return undefined;
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** @throws {InvalidParameterError} naming the option, its value and what it accepts */
export function deliveryOptions(opts: Readonly<Record<string, string>>): DeliveryOptions {
  const mode = opts.mode ?? 'blocking';
  if (mode !== 'blocking' && mode !== 'non-blocking')
    throw new InvalidParameterError(
      `logger: logging mode not supported: ${mode} (log-opt mode is blocking or non-blocking)`,
    );
  const size = opts['max-buffer-size'];
  if (size === undefined) return { mode, maxBufferBytes: DEFAULT_MAX_BUFFER_BYTES };
  if (mode !== 'non-blocking')
    throw new InvalidParameterError("max-buffer-size option is only supported with 'mode=non-blocking'");
  const bytes = parseSize(size);
  if (bytes === undefined || bytes <= 0)
    throw new InvalidParameterError(
      `invalid log-opt max-buffer-size=${size}: use a size such as 64k, 1m or 4m`,
    );
  return { mode, maxBufferBytes: bytes };
}
