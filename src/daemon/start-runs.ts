/**
 * The run side of berthd's start: what a killed berthd left behind by its runs is undone (volumes still
 * mounted, log FIFOs, bundles; their containers were removed before), then the run service is made.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Executor } from '../executor/index.ts';
import type { PluginManager } from '../plugins/index.ts';
import type { RunnableRuntimes } from '../runtimes/index.ts';
import type { VolumeService } from '../volumes/index.ts';
import type { DaemonConfig } from './config.ts';
import { RunLogging } from './run-logging.ts';
import { RunService } from './runs.ts';

export async function startRuns(o: {
  config: DaemonConfig;
  plugins: PluginManager;
  volumes: VolumeService;
  runtimes: RunnableRuntimes;
  executor: Executor;
  log: Logger;
}): Promise<{ runs: RunService; logging: RunLogging }> {
  const { config, log } = o;
  const say = (level: 'info' | 'warn' | 'error', msg: string) => log[level](msg);
  const mounts = await o.volumes.reconcileMounts();
  if (mounts.unmounted.length)
    log.warn({ unmounted: mounts.unmounted }, 'unmounted volumes of runs left by a previous berthd');
  for (const why of mounts.failed)
    log.error(`cannot unmount a volume left mounted by a previous berthd: ${why}`);
  const logging = new RunLogging({
    plugins: o.plugins,
    dataRoot: config.dataRoot,
    defaults: () => ({ driver: config.logDriver, opts: config.logOpts }),
    log: say,
  });
  logging.cleanLeftovers();
  const runs = new RunService({
    runtimes: o.runtimes,
    executor: o.executor,
    execRoot: config.execRoot,
    volumes: o.volumes,
    logging,
    log: say,
  });
  runs.cleanLeftovers();
  return { runs, logging };
}
