/**
 * Test support: the Engine API in process (`inject`, light-my-request's) over real services on a temporary directory, with
 * runtimes that are never probed by a smoke run. Nothing here runs a container.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi } from '../src/api/app.ts';
import { EventLog } from '../src/api/events.ts';
import type { ApiServer } from '../src/api/server/server.ts';
import { apiBackend } from '../src/daemon/api-adapters.ts';
import { RuncExecutor } from '../src/executor/index.ts';
import { PluginDistribution, PluginManager } from '../src/plugins/index.ts';
import { RuntimeManager } from '../src/runtimes/index.ts';
import { VolumeService } from '../src/volumes/index.ts';

export interface InProcessApi {
  readonly dir: string;
  readonly app: ApiServer;
  readonly plugins: PluginManager;
  readonly events: EventLog;
  close(): Promise<void>;
}

export async function inProcessApi(prefix = 'berth-api-'): Promise<InProcessApi> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const runtimes = new RuntimeManager({
    host: {
      execRoot: join(dir, 'exec'),
      wrapperDir: join(dir, 'wrappers'),
      noPivotRoot: false,
      pathEnv: process.env.PATH ?? '',
    },
    probe: { commandTimeoutMs: 2000 },
  });
  await runtimes.reload({});
  const plugins = new PluginManager({
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    runtimes,
    executor: new RuncExecutor(),
    preflight: { boundingCapabilities: [], exists: existsSync },
  });
  await plugins.init();
  const events = new EventLog();
  const app = createApi(
    apiBackend({
      facts: {
        version: '0.0.0-test',
        id: 'test-id',
        name: 'test',
        dataRoot: join(dir, 'data'),
        execRoot: join(dir, 'exec'),
        kernelVersion: '6',
        operatingSystem: 'Linux',
        architecture: 'x86_64',
        ncpu: 2,
        memTotal: 1,
        cgroupVersion: '1' as const,
      },
      runtimes,
      plugins,
      events,
      volumes: new VolumeService(plugins, join(dir, 'data')),
      distribution: new PluginDistribution(plugins),
      reloadRuntimes: () => runtimes.reload({}),
      runs: { run: () => Promise.reject(new Error('not used here')) },
    }),
  );
  return {
    dir,
    app,
    plugins,
    events,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
