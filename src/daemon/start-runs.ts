/**
 * The run side of berthd's start: what a killed berthd left behind by its runs is undone (log FIFOs and bundles
 * before berthd listens; volumes still mounted once their drivers are restored; their containers were removed
 * before), and the run service is made.
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

export function startRuns(o: {
  config: DaemonConfig;
  plugins: PluginManager;
  volumes: VolumeService;
  runtimes: RunnableRuntimes;
  executor: Executor;
  restoreWaitMs: number;
  log: Logger;
}): { runs: RunService; logging: RunLogging } {
  const { config, log } = o;
  const say = (level: 'info' | 'warn' | 'error', msg: string) => log[level](msg);
  const logging = new RunLogging({
    plugins: o.plugins,
    dataRoot: config.dataRoot,
    defaults: () => ({ driver: config.logDriver, opts: config.logOpts }),
    restoreWaitMs: o.restoreWaitMs,
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

/** Once the volume drivers are restored: the volumes a killed berthd's runs left mounted are unmounted. */
export async function unmountLeftovers(volumes: VolumeService, log: Logger): Promise<void> {
  const mounts = await volumes.reconcileMounts();
  if (mounts.unmounted.length)
    log.warn({ unmounted: mounts.unmounted }, 'unmounted volumes of runs left by a previous berthd');
  for (const why of mounts.failed)
    log.error(`cannot unmount a volume left mounted by a previous berthd: ${why}`);
}
