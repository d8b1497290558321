import { BerthError, SystemError } from '../errdefs/index.ts';
import type { PluginManager } from '../plugins/index.ts';
import type { VolumeRecord } from './volume-file.ts';
import { CAPABILITY as VOLUME_CAPABILITY, type Volume } from './volume-types.ts';

/** The same kind of error with `prefix: ` before its message (so its HTTP status stays the driver's). */
export function rewrap(err: unknown, prefix: string): Error {
  const message = `${prefix}: ${(err as Error).message}`;
  if (err instanceof BerthError) {
    const Kind = err.constructor as new (m: string, o?: { cause?: unknown }) => BerthError;
    return new Kind(message, { cause: err });
  }
  return new SystemError(message, { cause: err });
}

/** A volume whose driver cannot answer now, with why in `Status`. */
export function unreachable(r: VolumeRecord, why: string): Volume {
  const { CreatedAt, Driver, Labels, Name, Options, Scope } = r;
  return { CreatedAt, Driver, Labels, Name, Options, Scope, Mountpoint: '', Status: { error: why } };
}

export function randomName(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

export function matches(v: Volume, filters: ReadonlyMap<string, readonly string[]>): boolean {
  for (const [key, values] of filters) {
    if (key === 'name' && !values.some((n) => v.Name.includes(n))) return false;
    if (key === 'driver' && !values.some((d) => v.Driver === d || v.Driver === `${d}:latest`)) return false;
    if (key === 'label') {
      const ok = values.every((l) => {
        const [k, val] = l.split('=', 2) as [string, string | undefined];
        return k in v.Labels && (val === undefined || v.Labels[k] === val);
      });
      if (!ok) return false;
    }
  }
  return true;
}

/** A recorded volume as its driver reports it now (`VolumeDriver.Get`), or with why it cannot be reached. */
export async function inspectVolume(
  plugins: PluginManager,
  r: VolumeRecord,
  timeoutMs?: number,
): Promise<Volume> {
  const base = {
    CreatedAt: r.CreatedAt,
    Driver: r.Driver,
    Labels: r.Labels,
    Name: r.Name,
    Options: r.Options,
    Scope: r.Scope,
  };
  try {
    const got = await plugins
      .client(r.Driver, VOLUME_CAPABILITY)
      .call<{ Volume?: { Mountpoint?: string; Status?: Record<string, unknown> } }>(
        'VolumeDriver.Get',
        { Name: r.Name },
        timeoutMs === undefined ? {} : { timeoutMs },
      );
    const mountpoint = got.Volume?.Mountpoint ? plugins.hostPath(r.Driver, got.Volume.Mountpoint) : '';
    return {
      ...base,
      Mountpoint: mountpoint,
      ...(got.Volume?.Status ? { Status: got.Volume.Status } : {}),
    };
  } catch (err) {
    // The driver is down or disabled: the volume is still ours, shown with why it cannot be reached.
    return unreachable(r, (err as Error).message);
  }
}
