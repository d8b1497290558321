/**
 * CPU and wall time of small plugin calls (issue 16, goal 3): `--calls` VolumeDriver-style calls one after the
 * other (POST, ~20-byte JSON args, ~30-byte JSON answer) from PluginClient to a node:http server on a unix socket
 * in the same process, after 500 warm-up calls. Each `--client` (a plugin-client.ts, e.g. another worktree's) runs
 * in its own node with berthd's `--liftoff-only`, alternating, `--rounds` times; CPU is the process's user+system.
 *
 *   node --import tsx bench/plugin-rpc-cpu.ts --client /work/base/src/plugins/rpc/plugin-client.ts \
 *     --client src/plugins/rpc/plugin-client.ts [--calls 5000] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    client: { type: 'string', multiple: true },
    child: { type: 'string' },
    calls: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
  },
});
const CALLS = Number(values.calls);

async function child(module: string): Promise<void> {
  const { PluginClient } = (await import(
    pathToFileURL(resolve(module)).href
  )) as typeof import('../src/plugins/rpc/plugin-client.ts');
  const dir = mkdtempSync(join(tmpdir(), 'berth-rpccpu-'));
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', () => res.end(JSON.stringify({ Mountpoint: `/data/${JSON.parse(body).Name}` })));
  });
  await new Promise<void>((r) => server.listen(join(dir, 'p.sock'), r));
  const c = new PluginClient('bench/p', dir, 'p.sock');
  for (let i = 0; i < 500; i++) await c.call('VolumeDriver.Path', { Name: `v${i}` });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await c.call('VolumeDriver.Path', { Name: `v${i}` });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await c.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
  const us = (x: number) => ((x * 1000) / CALLS).toFixed(1);
  console.log(`${us(wall)} µs wall, ${((cpu.user + cpu.system) / CALLS).toFixed(1)} µs CPU per call`);
}

if (values.child) await child(values.child);
else {
  const clients = values.client ?? ['src/plugins/rpc/plugin-client.ts'];
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const client of clients) {
      const out = execFileSync(
        process.execPath,
        [
          '--liftoff-only',
          '--import',
          'tsx',
          new URL(import.meta.url).pathname,
          '--child',
          client,
          '--calls',
          `${CALLS}`,
        ],
        { encoding: 'utf8' },
      );
      console.log(`round ${r + 1} ${client}: ${out.trim()}`);
    }
  }
}
