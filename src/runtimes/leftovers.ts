/**
 * Which runtime invocation removes what a previous berthd left under a `runtime-<name>` state root: the
 * configured runtime when it is still there and usable, else plain runc on that root (runc-compatible
 * runtimes share its state format).
 *
 * @module
 */
import { globalArgs, type RuncCli, type RuntimeHandle } from '../executor/index.ts';
import type { RuntimeSet } from './manager.ts';

export function leftoverHandle(set: RuntimeSet, name: string, root: string): RuntimeHandle {
  const rt = set.runtimes.get(name);
  if (rt?.kind === 'runc' && rt.probe.health !== 'unavailable') return rt.cli;
  const runc: RuncCli = { binary: 'runc', globalArgs: globalArgs({ root }), noPivot: false };
  return runc;
}
