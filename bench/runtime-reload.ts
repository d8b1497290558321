/**
 * Runtime registry: reload of 1000 runtimes with args, and what probing costs.
 *
 *   npm run bench:runtimes     (node --import tsx bench/runtime-reload.ts [--runs 11] [--count 1000])
 *
 * Reload cases (each run on a fresh manager and directories; medians reported):
 *   cold   – first load: 1000 wrapper scripts written (fsync'd) and every probe run, smoke test off
 *   warm   – reload of the same configuration: wrappers exist, probes cached (the goal: ≤ 200 ms)
 *   change – reload where one runtime's args changed and one was added: only those two probed
 * Probe cases: one runtime's full probe (--version + features + smoke run) for runc and runsc, and a bare
 * `runc run` of the same smoke bundle for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { containerSpec } from '../src/oci/index.ts';
import { probeRuntime, type RuntimeHost, RuntimeManager, resolveRuntime } from '../src/runtimes/index.ts';
import { recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '11' }, count: { type: 'string', default: '1000' } },
});
const runs = Number(values.runs);
const count = Number(values.count);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

function config(n: number, variant = 0) {
  return {
    runtimes: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `rt${i}`,
        { path: 'runc', runtimeArgs: ['--log', `/var/log/berth/rt${i}-${variant}.log`] },
      ]),
    ),
  };
}

function host(dir: string): RuntimeHost {
  return {
    execRoot: join(dir, 'exec'),
    wrapperDir: join(dir, 'wrappers'),
    noPivotRoot: false,
    pathEnv: process.env.PATH ?? '',
  };
}

async function reloadCase(): Promise<{ cold: number; warm: number; change: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-rt-'));
  try {
    const m = new RuntimeManager({ host: host(dir), probe: { commandTimeoutMs: 2000 } });
    let t = performance.now();
    await m.reload(config(count));
    const cold = performance.now() - t;
    t = performance.now();
    await m.reload(config(count));
    const warm = performance.now() - t;
    const changed = config(count);
    changed.runtimes.rt7 = { path: 'runc', runtimeArgs: ['--log', '/var/log/berth/changed.log'] };
    (changed.runtimes as Record<string, unknown>)[`rt${count}`] = { path: 'runc', runtimeArgs: ['--debug'] };
    t = performance.now();
    const { diff } = await m.reload(changed);
    const change = performance.now() - t;
    if (diff.changed.join() !== 'rt7' || diff.added.join() !== `rt${count}`)
      throw new Error(`unexpected diff ${JSON.stringify(diff)}`);
    return { cold, warm, change };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function probeCase(path: string, args: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-probe-'));
  try {
    const rt = resolveRuntime('bench', { path, runtimeArgs: args }, host(dir));
    const p = await probeRuntime(rt, {
      commandTimeoutMs: 2000,
      smokeTest: { dir: join(dir, 'probe'), timeoutMs: 10_000 },
    });
    if (p.health !== 'ok') throw new Error(`${path}: ${p.reason}`);
    return p.durationMs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same smoke bundle run by bare runc: the floor of a smoke test. */
function bareRunc(): number {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-bare-'));
  try {
    const rootfs = join(dir, 'rootfs');
    const mounts = [];
    for (const d of ['/usr', '/lib', '/lib64']) {
      mkdirSync(join(rootfs, d), { recursive: true });
      mounts.push({ destination: d, type: 'bind', source: d, options: ['rbind', 'ro'] });
    }
    spawnSync('ln', ['-s', 'usr/bin', join(rootfs, 'bin')]);
    spawnSync('ln', ['-s', 'usr/sbin', join(rootfs, 'sbin')]);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify(containerSpec({ rootfs, args: ['/bin/true'], readonlyRootfs: true, mounts })),
    );
    const t = performance.now();
    const r = spawnSync('runc', ['--root', join(dir, 'state'), 'run', '--bundle', dir, 'bare'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return performance.now() - t;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = {
  cold: [] as number[],
  warm: [] as number[],
  change: [] as number[],
  runc: [] as number[],
  runsc: [] as number[],
  bare: [] as number[],
};
for (let i = 0; i < runs; i++) {
  const r = await reloadCase();
  results.cold.push(r.cold);
  results.warm.push(r.warm);
  results.change.push(r.change);
  results.runc.push(await probeCase('runc', []));
  results.runsc.push(await probeCase('runsc', ['--platform=ptrace', '--ignore-cgroups', '--network=none']));
  results.bare.push(bareRunc());
}

const rows: [string, number][] = [
  [`cold load, ${count} runtimes with args (wrappers + probes, no smoke)`, median(results.cold)],
  [`warm reload, ${count} runtimes, unchanged`, median(results.warm)],
  [`reload, ${count} runtimes, 1 changed + 1 added`, median(results.change)],
  ['probe runc (--version + features + smoke run)', median(results.runc)],
  ['probe runsc via wrapper (smoke run)', median(results.runsc)],
  ['bare `runc run` of the smoke bundle', median(results.bare)],
];
console.log(
  `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, medians of ${runs} runs`,
);
for (const [name, ms] of rows) console.log(`${name.padEnd(72)} ${fmt(ms).padStart(10)}`);
recordMetrics('runtime-reload', [
  {
    id: 'reload-warm',
    label: `runtime reload, ${count} runtimes unchanged`,
    unit: 'ms',
    berth: median(results.warm),
    goal: '≤ 200 ms',
    lowerIsBetter: true,
  },
  {
    id: 'reload-change',
    label: `runtime reload, ${count} runtimes, 1 changed + 1 added`,
    unit: 'ms',
    berth: median(results.change),
    lowerIsBetter: true,
  },
  {
    id: 'reload-cold',
    label: `first load of ${count} runtimes with args`,
    unit: 'ms',
    berth: median(results.cold),
    lowerIsBetter: true,
  },
  {
    id: 'probe-runc',
    label: 'runtime probe: runc (--version, features, smoke run)',
    unit: 'ms',
    berth: median(results.runc),
    runc: median(results.bare),
    lowerIsBetter: true,
  },
]);
