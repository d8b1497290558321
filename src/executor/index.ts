export { removeBundle, writeBundle } from './bundle.ts';
export { type CommandOptions, type CommandResult, runCommand } from './command.ts';
export {
  type ContainerdContainer,
  ContainerdExecutor,
  type ContainerdExecutorOptions,
  type ContainerdHandle,
  OWNER_LABEL,
  runcRootOf,
} from './containerd-executor.ts';
export type { SweepReport } from './containerd-leaks.ts';
export type {
  ContainerOutput,
  ContainerState,
  Executor,
  ExitStatus,
  ReconcileOptions,
  RunningContainer,
  RuntimeHandle,
} from './executor.ts';
export {
  checkContainerId,
  deleteArgs,
  type GlobalOptions,
  globalArgs,
  killArgs,
  listArgs,
  type RuncCli,
  type RunOptions,
  runArgs,
  stateArgs,
  withGlobals,
} from './runc-args.ts';
export { type RuncContainer, RuncExecutor } from './runc-executor.ts';
export {
  findRuncOrphans,
  killRuncOrphans,
  type ProcEntry,
  type RuncInit,
  type RuncOrphan,
  readProcEntries,
  runcInits,
} from './runc-orphans.ts';
export {
  closeSharedSpawner,
  type Rendezvous,
  releaseUnclaimedSurvivors,
  sharedSpawner,
  useRendezvous,
} from './shared-spawner.ts';
export type { Survivor } from './spawner.ts';
