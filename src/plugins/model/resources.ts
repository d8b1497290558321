/**
 * Resource limits of a plugin (berth's extension; dockerd cannot limit plugins): the fields keep the names of
 * Docker's `HostConfig` resources (`Memory`, `MemorySwap`, `NanoCpus`, `CpuShares`, `PidsLimit`) and their
 * meaning, so an operator reads them as they read `docker update`. Pure: parsing of the CLI's values
 * (`256m`, `0.5`), decoding of the API's `Resources` object, the checks dockerd makes (with its wording where it
 * has one) and the OCI `linux.resources` they become.
 *
 * Update rule: a field that is absent is left as it is; `0` removes that limit (Docker's "unset"); `MemorySwap`
 * `-1` is unlimited swap and `PidsLimit` `-1` is unlimited (stored as no limit).
 *
 * @module
 */
import { InvalidParameterError } from '../../errdefs/index.ts';
import type { PluginResources } from './resources-schema.ts';

export type { PluginResources } from './resources-schema.ts';

/** runc refuses smaller memory limits on some kernels; dockerd refuses them with this floor. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;
/** Docker's CFS period; `NanoCpus` becomes a quota over it. */
export const CPU_PERIOD_US = 100_000;
const NANO = 1e9;

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/**
 * A size as `docker --memory` reads it (go-units `RAMInBytes`): a decimal number with an optional binary unit
 * `b`, `k`, `m`, `g`, `t` (any case, optionally followed by `b`/`ib`): `256m`, `1g`, `1.5G`, `512kb`, `1048576`.
 * `-1` is accepted where `allowUnlimited` (memory-swap).
 * @throws {InvalidParameterError} naming the flag and the accepted forms
 */
export function parseSize(flag: string, value: string, o: { allowUnlimited?: boolean } = {}): number {
  const text = value.trim();
  if (o.allowUnlimited && text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text) ?? /^(\d+(?:\.\d+)?)\s*(b)$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) {
    const unlimited = o.allowUnlimited ? ', or -1 for unlimited' : '';
    throw new InvalidParameterError(
      `${flag}: invalid size "${value}": use a number of bytes with an optional unit b, k, m, g or t (e.g. 256m, 1g)${unlimited}`,
    );
  }
  return Math.floor(Number(m[1]) * unit);
}

/** `--cpus 0.5` → NanoCpus 500000000 (at most nine decimals, as Docker's exact rational parse). */
export function parseCpus(flag: string, value: string): number {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (!m) {
    throw new InvalidParameterError(
      `${flag}: invalid number of CPUs "${value}": use a decimal like 0.5 or 2 (at most 9 decimals)`,
    );
  }
  return Number(m[1]) * NANO + Number((m[2] ?? '').padEnd(9, '0'));
}

/** An integer flag (`--cpu-shares`, `--pids-limit`). */
export function parseInteger(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidParameterError(`${flag}: "${value}" is not an integer`);
  }
  return Number(value);
}

/**
 * The limits after applying `change` to `current`, checked as a whole; the inputs are not modified.
 * @throws {InvalidParameterError} naming the field and the fix, with nothing applied
 */
export function applyResources(
  current: PluginResources | undefined,
  change: PluginResources,
  host: { cpus?: number } = {},
): PluginResources {
  const merged: Record<string, number> = { ...current };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) continue;
    const unset = value === 0 || (key === 'PidsLimit' && value === -1);
    if (unset) delete merged[key];
    else merged[key] = value;
  }
  const next = merged as PluginResources;
  const problem = resourceProblem(next, host);
  if (problem) throw new InvalidParameterError(problem);
  return next;
}

/** What is wrong with a set of limits (dockerd's wording where it has one), or undefined. */
export function resourceProblem(r: PluginResources, host: { cpus?: number } = {}): string | undefined {
  const { Memory, MemorySwap, NanoCpus, CpuShares, PidsLimit } = r;
  if (Memory !== undefined && Memory < MIN_MEMORY_BYTES)
    return `Resources.Memory: minimum memory limit allowed is 6MB (${MIN_MEMORY_BYTES} bytes), got ${Memory}`;
  if (MemorySwap !== undefined) {
    if (Memory === undefined)
      return 'Resources.MemorySwap: you should always set the Memory limit when using Memoryswap limit (--memory with --memory-swap)';
    if (MemorySwap !== -1 && MemorySwap < Memory)
      return `Resources.MemorySwap: minimum memoryswap limit should be larger than memory limit (${MemorySwap} < ${Memory}); memory-swap is memory plus swap, or -1 for unlimited swap`;
  }
  if (NanoCpus !== undefined) {
    const max = host.cpus;
    if (NanoCpus < NANO / 100 || (max !== undefined && NanoCpus > max * NANO))
      return `Resources.NanoCpus: range of CPUs is from 0.01 to ${max === undefined ? 'the number of CPUs' : `${max}.00, as there are only ${max} CPUs available`}; got ${NanoCpus / NANO}`;
  }
  if (CpuShares !== undefined && (CpuShares < MIN_CPU_SHARES || CpuShares > MAX_CPU_SHARES))
    return `Resources.CpuShares: must be between ${MIN_CPU_SHARES} and ${MAX_CPU_SHARES} (default 1024), got ${CpuShares}`;
  if (PidsLimit !== undefined && PidsLimit < 1)
    return `Resources.PidsLimit: must be a positive number of processes, or -1 (or 0) for unlimited, got ${PidsLimit}`;
  return undefined;
}

/** Whether any limit is set. */
export function hasResources(r: PluginResources | undefined): r is PluginResources {
  return r !== undefined && Object.values(r).some((v) => v !== undefined);
}

/** The OCI `linux.resources` entries for the limits (memory, cpu, pids), in the runtime-spec's field order. */
export function ociResources(r: PluginResources): {
  memory?: { limit: number; swap: number };
  cpu?: { shares?: number; quota?: number; period?: number };
  pids?: { limit: number };
} {
  const out: ReturnType<typeof ociResources> = {};
  if (r.Memory !== undefined) {
    // Docker's default: without --memory-swap a container may use as much swap as memory (total 2×).
    out.memory = { limit: r.Memory, swap: r.MemorySwap ?? r.Memory * 2 };
  }
  if (r.CpuShares !== undefined || r.NanoCpus !== undefined) {
    out.cpu = {
      ...(r.CpuShares !== undefined ? { shares: r.CpuShares } : {}),
      ...(r.NanoCpus !== undefined
        ? { quota: Math.round((r.NanoCpus * CPU_PERIOD_US) / NANO), period: CPU_PERIOD_US }
        : {}),
    };
  }
  if (r.PidsLimit !== undefined) out.pids = { limit: r.PidsLimit };
  return out;
}
