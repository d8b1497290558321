/**
 * `berth plugin update` flags → the body of `POST /plugins/{name}/update` (Docker's `HostConfig` resource names),
 * parsed as the docker CLI parses `docker update`'s. Loaded only when the command runs (it pulls in plugins/).
 *
 * @module
 */
import { type PluginResources, parseCpus, parseInteger, parseSize } from '../../plugins/index.ts';

/** The resource flags as commander hands them over (strings, as typed). */
export interface ResourceFlags {
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly cpus?: string;
  readonly cpuShares?: string;
  readonly pidsLimit?: string;
}

/** Only the flags given become fields: the others stay as they are on the plugin. */
export function resourcesFromFlags(o: ResourceFlags): PluginResources {
  const r: Record<string, number> = {};
  if (o.memory !== undefined) r.Memory = parseSize('--memory', o.memory);
  if (o.memorySwap !== undefined)
    r.MemorySwap = parseSize('--memory-swap', o.memorySwap, { allowUnlimited: true });
  if (o.cpus !== undefined) r.NanoCpus = parseCpus('--cpus', o.cpus);
  if (o.cpuShares !== undefined) r.CpuShares = parseInteger('--cpu-shares', o.cpuShares);
  if (o.pidsLimit !== undefined) r.PidsLimit = parseInteger('--pids-limit', o.pidsLimit);
  return r;
}

/** `?restart=1&force=1` from the flags (nothing when neither is given). */
export function reconfigureQuery(o: { restart?: boolean; force?: boolean }): string {
  const q = [...(o.restart ? ['restart=1'] : []), ...(o.force ? ['force=1'] : [])];
  return q.length ? `?${q.join('&')}` : '';
}
