export { type CommandOptions, type CommandResult, runCommand } from './command.ts';
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
export {
  type ContainerOutput,
  type ContainerState,
  type ExitStatus,
  RuncExecutor,
  type RunningContainer,
} from './runc-executor.ts';
