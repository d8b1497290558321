/**
 * Bulk data, berthd vs the reference dockerd 20.10 in the same run, through the docker CLI for both:
 *   - `docker plugin create` of a context holding `--mib` MiB (one file of random bytes beside the mini plugin)
 *   - `docker plugin install` of that plugin from a local registry (docker-registry on loopback; dockerd pushed it)
 * Each as MiB/s of the context (median of `--runs`, berth and dockerd alternating), and berthd's peak RSS while it
 * receives (its VmHWM, reset before each command): the layers stream through, none is held in memory (goal ≤ 80 MiB).
 *
 *   node --import tsx bench/bulk.ts [--mib 200] [--runs 3]
 *
 * Needs root, runc, gcc with static libc, docker-registry, the docker CLI and ../shared/tools/reference-dockerd;
 * run npm run build first.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/integration/registry.ts';
import { startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' } },
});
const MIB = Number(values.mib);
const RUNS = Number(values.runs);
const ROOT = new URL('../', import.meta.url).pathname;
const REFERENCE_DOCKERD = join(ROOT, '../shared/tools/reference-dockerd');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** The mini plugin's context plus `rootfs/blob`, MIB MiB of random bytes (incompressible: gzip cannot shrink it). */
function bulkContext(dir: string): string {
  const ctx = miniContext(dir);
  const fd = openSync(join(ctx, 'rootfs', 'blob'), 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < MIB; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  return ctx;
}

/**
 * Peak RSS (MiB) of `pid` while `work` runs: the kernel's VmHWM, reset to the current RSS first (clear_refs 5), so a
 * spike between two samples is not missed (a 20 ms VmRSS sampler missed the ~35 MiB llhttp tier-up spike at times).
 */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const result = await work();
  const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { result, peak: kb / 1024 };
}

/** Seconds a docker CLI command takes against `host` (asynchronous: the RSS sampler runs meanwhile). */
function docker(host: string, args: string[]): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    execFile('docker', args, { env: { ...process.env, DOCKER_HOST: host } }, (err, _out, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`));
      else resolve((performance.now() - t) / 1000);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-bulk-'));
const dockerdDir = '/tmp/berth-bench-bulk-dockerd';
const registry = await startRegistry(join(dir, 'registry'));
const berthd = await startBerthd(join(dir, 'berthd'), ['--no-runtime-smoke-test']);
execFileSync(REFERENCE_DOCKERD, ['start', dockerdDir], { stdio: 'ignore' });
const berth = `unix://${berthd.socket}`;
const dockerd = `unix://${dockerdDir}/docker.sock`;
const remote = `${registry.domain}/bench/bulk:latest`;
try {
  const ctx = bulkContext(dir);
  const pid = berthd.child.pid as number;
  spawnSync('docker', ['plugin', 'rm', '-f', 'bench/bulk', remote], {
    env: { ...process.env, DOCKER_HOST: dockerd },
  });
  await docker(dockerd, ['plugin', 'create', remote, ctx]);
  await docker(dockerd, ['plugin', 'push', remote]);
  await docker(dockerd, ['plugin', 'rm', '-f', remote]);
  const create = { berth: [] as number[], dockerd: [] as number[] };
  const install = { berth: [] as number[], dockerd: [] as number[] };
  const peaks = { create: 0, install: 0 };
  for (let i = 0; i < RUNS; i++) {
    const c = await peakRss(pid, () => docker(berth, ['plugin', 'create', 'bench/bulk', ctx]));
    create.berth.push(MIB / c.result);
    await docker(berth, ['plugin', 'rm', '-f', 'bench/bulk']);
    create.dockerd.push(MIB / (await docker(dockerd, ['plugin', 'create', 'bench/bulk', ctx])));
    await docker(dockerd, ['plugin', 'rm', '-f', 'bench/bulk']);
    const pull = ['plugin', 'install', '--grant-all-permissions', '--disable', remote];
    const n = await peakRss(pid, () => docker(berth, pull));
    install.berth.push(MIB / n.result);
    await docker(berth, ['plugin', 'rm', '-f', remote]);
    install.dockerd.push(MIB / (await docker(dockerd, pull)));
    await docker(dockerd, ['plugin', 'rm', '-f', remote]);
    peaks.create = Math.max(peaks.create, c.peak);
    peaks.install = Math.max(peaks.install, n.peak);
  }
  const rate = (xs: number[]) => `${median(xs).toFixed(0)} MiB/s`;
  console.log(`${MIB} MiB context, medians of ${RUNS} runs (berth and dockerd alternating)`);
  console.log(`docker plugin create:  berth ${rate(create.berth)}, dockerd ${rate(create.dockerd)}`);
  console.log(`docker plugin install: berth ${rate(install.berth)}, dockerd ${rate(install.dockerd)}`);
  const peak = Math.max(peaks.create, peaks.install);
  console.log(
    `berthd peak RSS: create ${peaks.create.toFixed(0)} MiB, install ${peaks.install.toFixed(0)} MiB (goal ≤ 80)`,
  );
  recordMetrics('bulk', [
    {
      id: 'bulk-create',
      label: `docker plugin create of a ${MIB} MiB context`,
      unit: 'MiB/s',
      berth: median(create.berth),
      dockerd: median(create.dockerd),
      goal: '≥ 1.0 × dockerd',
      lowerIsBetter: false,
    },
    {
      id: 'bulk-install',
      label: `docker plugin install of a ${MIB} MiB plugin from a local registry`,
      unit: 'MiB/s',
      berth: median(install.berth),
      dockerd: median(install.dockerd),
      goal: '≥ 1.0 × dockerd',
      lowerIsBetter: false,
    },
    {
      id: 'bulk-rss',
      label: 'berthd peak RSS during create and install',
      unit: 'MiB',
      berth: peak,
      goal: '≤ 80 MiB',
      lowerIsBetter: true,
    },
  ]);
} finally {
  await stopBerthd(berthd);
  execFileSync(REFERENCE_DOCKERD, ['stop', dockerdDir], { stdio: 'ignore' });
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
