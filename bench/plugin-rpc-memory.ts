/**
 * berthd's RSS before and after its first plugin call (issue 16, goal 3): a fresh daemon creates and enables the
 * mini plugin, then creates volumes with it as the driver (VolumeDriver.Get/Create/... through PluginClient).
 * Builds alternate (`--bin` twice or more: bin/berthd.js of each), `--starts` each.
 *
 *   node --import tsx bench/plugin-rpc-memory.ts --bin /work/base/bin/berthd.js --bin bin/berthd.js [--starts 3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tar from 'tar';
import { startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';

const { values } = parseArgs({
  options: { bin: { type: 'string', multiple: true }, starts: { type: 'string', default: '3' } },
});
const bins = values.bin ?? [new URL('../bin/berthd.js', import.meta.url).pathname];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (pid: number, key: string) =>
  Number(
    new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0,
  ) / 1024;

const dir = mkdtempSync(join(tmpdir(), 'berth-rpcmem-'));
const ctx = miniContext(dir);
try {
  for (let s = 0; s < Number(values.starts); s++) {
    for (const bin of bins) {
      const root = mkdtempSync(join(dir, 'd-'));
      const d = await startBerthd(root, ['--no-runtime-smoke-test'], bin);
      const pid = d.child.pid ?? 0;
      await d.client.json('POST', '/plugins/create?name=bench/mini', {
        upload: { stream: tar.c({ cwd: ctx }, ['.']) as never, contentType: 'application/x-tar' },
      });
      await d.client.json('POST', '/plugins/bench/mini/enable');
      await sleep(1500);
      const enabled = status(pid, 'VmRSS');
      for (let i = 0; i < 20; i++)
        await d.client.json('POST', '/volumes/create', { body: { Name: `v${i}`, Driver: 'bench/mini' } });
      await sleep(1500);
      const called = status(pid, 'VmRSS');
      console.log(
        `${bin}: RSS 1 plugin enabled ${enabled.toFixed(1)} MiB, after 20 volume creates through it ${called.toFixed(1)} MiB (+${(called - enabled).toFixed(1)}), VmHWM ${status(pid, 'VmHWM').toFixed(1)} MiB`,
      );
      await stopBerthd(d);
      rmSync(root, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
