/**
 * Managed-plugin lifecycle figures, each compared in the same run with the real thing:
 *   - enable latency (API call until it returns; the plugin's socket answers by then) vs a bare foreground
 *     `runc run` of the same bundle until its socket accepts (started and polled as berthd does), vs the
 *     reference dockerd 20.10
 *   - disable latency, berth vs dockerd
 *   - 100 plugins enabled at once; berthd RSS with 1, 10 and 100 plugins (vs dockerd + containerd + shim)
 *   - restore of 100 enabled plugins after kill -9 of berthd
 *
 *   node --import tsx bench/plugin-lifecycle.ts [--runs 11] [--many 100] [--no-dockerd]
 *
 * The plugin is bench/fixtures/mini-plugin.c built statically (one 750 kB file: the rootfs is that binary).
 * Needs root, runc, gcc with static libc; the dockerd comparison needs ../shared/tools/reference-dockerd.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tar from 'tar';
import { BerthClient } from '../src/client/index.ts';
import { sharedSpawner } from '../src/executor/index.ts';
import { socketAddress } from '../src/host/index.ts';
import { canConnect, waitForSocket } from '../src/plugins/index.ts';
import { bareRuncSteps, medians, phaseMedians } from './enable-breakdown.ts';
import { startBerthd } from './fixtures/berthd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { pidsWith, processTable, rssMiB, settledUsage } from './fixtures/processes.ts';
import { recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '11' },
    many: { type: 'string', default: '100' },
    'no-dockerd': { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const MANY = Number(values.many);
const ROOT = new URL('../', import.meta.url).pathname;
const REFERENCE_DOCKERD = join(ROOT, '../shared/tools/reference-dockerd');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system) the process has used, in ms: what berthd itself costs, whatever the machine's load. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

const upload = (ctx: string) => ({
  stream: tar.c({ cwd: ctx }, ['.']) as unknown as import('node:stream').Readable,
  contentType: 'application/x-tar',
});

const rssMetric = (id: string, label: string, berth: number, o: { dockerd?: number; goal?: string } = {}) =>
  ({ id, label, unit: 'MiB', berth, ...o, lowerIsBetter: true }) as const;

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/**
 * Bare runc as berthd runs it, minus berthd: a foreground `runc run` of the bundle berth generated (berthd keeps
 * runc in the foreground: it is how it learns the exit status and gets the output), started through berth-spawner
 * (berthd's spawn path: a small process forks, not the bench's ~100 MiB node), its output piped and read, and the
 * socket polled from the spawn on with berthd's own `waitForSocket` (every 1 ms), until it accepts.
 */
async function bareRunc(bundle: string, socketDir: string, root: string): Promise<number> {
  const id = 'bare-bench';
  rmSync(join(socketDir, 'mini.sock'), { force: true });
  const address = socketAddress(socketDir, 'mini.sock'); // the path is longer than a sockaddr_un holds
  const spawner = sharedSpawner();
  if (!spawner) throw new Error('bench: native/berth-spawner is not built (bash scripts/setup.sh)');
  let closed: Promise<unknown> = Promise.resolve();
  try {
    const t = performance.now();
    const child = spawner.spawn(['runc', '--root', root, 'run', '--bundle', bundle, id], { cwd: bundle });
    child.stdout?.resume();
    child.stderr?.resume();
    closed = child.closed;
    const ready = await waitForSocket(address.path, closed, 10_000);
    const ms = performance.now() - t;
    if (!ready.ready) throw new Error(`bare runc: the plugin never listened (${ready.why})`);
    ready.socket.destroy();
    return ms;
  } finally {
    address.close();
    spawnSync('runc', ['--root', root, 'delete', '--force', id]);
    await closed;
  }
}

/**
 * The floor this bench compared with before: `runc run -d` forked by the bench's node (spawnSync: a ~4 ms fork of
 * a big process, which berthd does not pay), the socket polled every 0.5 ms once runc exited. Printed beside.
 */
async function bareRuncDetached(bundle: string, socketDir: string, root: string): Promise<number> {
  const id = 'bare-detached';
  rmSync(join(socketDir, 'mini.sock'), { force: true });
  const address = socketAddress(socketDir, 'mini.sock');
  try {
    const t = performance.now();
    // No pipes: a detached container inherits runc's stdio, and spawnSync would wait for it to exit.
    const log = `${root}.log`;
    const r = spawnSync('runc', ['--root', root, '--log', log, 'run', '-d', '--bundle', bundle, id], {
      stdio: 'ignore',
    });
    if (r.status !== 0) throw new Error(`runc: ${readFileSync(log, 'utf8')}`);
    while (!(await canConnect(address.path))) {
      if (performance.now() - t > 10_000) throw new Error('bare runc: the plugin never listened');
      await sleep(0.5);
    }
    return performance.now() - t;
  } finally {
    address.close();
    spawnSync('runc', ['--root', root, 'delete', '--force', id]);
  }
}

async function berthFigures(dir: string, ctx: string) {
  // berthd times its phases into this file (src/host/phase-trace.ts); each part of the bench renames it away.
  const trace = join(dir, 'phases.jsonl');
  const traceOf = (part: string) => {
    if (existsSync(trace)) renameSync(trace, join(dir, `phases-${part}.jsonl`));
    return join(dir, `phases-${part}.jsonl`);
  };
  process.env.BERTHD_TRACE_PHASES = trace;
  const { child, client } = await startBerthd(dir, ['--no-runtime-smoke-test']);
  await new Promise((r) => setTimeout(r, 500)); // settled after start, before any request
  const rssIdle = rssMiB(child.pid ?? 0);
  await client.json('POST', '/plugins/create?name=bench/mini', { upload: upload(ctx) });
  const enable: number[] = [];
  const disable: number[] = [];
  const bare: number[] = [];
  const detached: number[] = [];
  const steps: Awaited<ReturnType<typeof bareRuncSteps>>[] = [];
  const id = (await client.json<{ Id: string }>('GET', '/plugins/bench/mini/json')).Id;
  const bundleCopy = join(dir, 'bare-bundle');
  for (let i = 0; i < RUNS; i++) {
    enable.push(await timed(() => client.json('POST', '/plugins/bench/mini/enable')));
    if (i === 0) {
      mkdirSync(bundleCopy, { recursive: true });
      cpSync(join(dir, 'exec/plugin-bundles', id, 'config.json'), join(bundleCopy, 'config.json'));
    }
    disable.push(await timed(() => client.json('POST', '/plugins/bench/mini/disable')));
    // berthd's enable comes after the stepwise bare run and its teardown; so does the bare run it is divided by.
    steps.push(await bareRuncSteps(bundleCopy, join(dir, 'exec/plugins', id), join(dir, 'bare-root')));
    bare.push(await bareRunc(bundleCopy, join(dir, 'exec/plugins', id), join(dir, 'bare-root')));
    detached.push(await bareRuncDetached(bundleCopy, join(dir, 'exec/plugins', id), join(dir, 'bare-root')));
    steps.push(await bareRuncSteps(bundleCopy, join(dir, 'exec/plugins', id), join(dir, 'bare-root')));
  }
  await client.json('DELETE', '/plugins/bench/mini');
  const single = phaseMedians(traceOf('single'));

  // Many plugins: create, then enable all at once; RSS at 1, 10 and MANY enabled.
  for (let i = 0; i < MANY; i++)
    await client.json('POST', `/plugins/create?name=bench/m${i}`, { upload: upload(ctx) });
  await client.json('POST', '/plugins/bench/m0/enable');
  const rss1 = rssMiB(child.pid ?? 0);
  await Promise.all(
    Array.from({ length: 9 }, (_, i) => client.json('POST', `/plugins/bench/m${i + 1}/enable`)),
  );
  const rss10 = rssMiB(child.pid ?? 0);
  const cpuBeforeMany = cpuMs(child.pid ?? 0);
  const manyMs = await timed(() =>
    Promise.all(
      Array.from({ length: MANY - 10 }, (_, i) => client.json('POST', `/plugins/bench/m${i + 10}/enable`)),
    ),
  );
  await sleep(500);
  const rssMany = rssMiB(child.pid ?? 0);
  const manyCpuMs = cpuMs(child.pid ?? 0) - cpuBeforeMany;
  const rssManySettled = (await settledUsage(child.pid ?? 0, 6000)).rss; // after berthd's idle compaction
  const many = phaseMedians(traceOf('many'));
  // Restore: kill -9, restart, time until every plugin runs again (berthd listens first, then restores them).
  // berth-spawner outlives berthd with the plugins' `runc run`: the restore adopts them. Then the same with the
  // spawner killed too: every container is deleted and started again.
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const adopted = await timeRestore(dir);
  const restoreTrace = traceOf('restore');
  adopted.stop('SIGKILL');
  await adopted.exit;
  const rendezvous = join(dir, 'exec', 'spawner.sock'); // the helper that kept the plugins, adopted or not
  for (const pid of pidsWith(processTable(), 'berth-spawner', rendezvous)) process.kill(pid, 'SIGKILL');
  const cold = await timeRestore(dir);
  await Promise.all(
    Array.from({ length: MANY }, (_, i) => cold.client.json('DELETE', `/plugins/bench/m${i}?force=1`)),
  );
  cold.stop('SIGTERM');
  await cold.exit;
  const restore = phaseMedians(restoreTrace);
  return {
    enable,
    disable,
    bare,
    detached,
    steps: medians(steps),
    phases: { single, many, restore },
    rssIdle,
    rss1,
    rss10,
    rssMany,
    rssManySettled,
    manyMs,
    manyCpuMs,
    restoreCpuMs: adopted.cpuMs,
    restoreMs: adopted.ms,
    restoredRunning: adopted.running,
    coldRestoreMs: cold.ms,
    coldRestoredRunning: cold.running,
  };
}

/** Starts berthd on `dir` and times it until all MANY plugins run again; its CPU time until then. */
async function timeRestore(dir: string) {
  const start = performance.now();
  const again = await startBerthd(dir, ['--no-runtime-smoke-test']);
  let running = 0;
  for (const t = performance.now(); running < MANY && performance.now() - t < 120_000; await sleep(5)) {
    const list = await again.client.json<{ Status: { State: string } }[]>('GET', '/plugins');
    running = list.filter((p) => p.Status.State === 'running').length;
  }
  const ms = performance.now() - start;
  const pid = again.child.pid ?? 0;
  return {
    ms,
    running,
    pid,
    cpuMs: cpuMs(pid),
    client: again.client,
    stop: (signal: NodeJS.Signals) => again.child.kill(signal),
    exit: new Promise((r) => again.child.once('exit', r)),
  };
}

async function dockerdFigures(ctx: string) {
  const dir = '/tmp/berth-bench-dockerd';
  execFileSync(REFERENCE_DOCKERD, ['start', dir], { stdio: 'ignore' });
  const sock = join(dir, 'docker.sock');
  const client = new BerthClient(`unix://${sock}`);
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}` };
  spawnSync('docker', ['plugin', 'rm', '-f', 'bench/mini'], { env });
  execFileSync('docker', ['plugin', 'create', 'bench/mini', ctx], { env, stdio: 'ignore' });
  const enable: number[] = [];
  const disable: number[] = [];
  let rss = 0;
  for (let i = 0; i < RUNS; i++) {
    enable.push(await timed(() => client.json('POST', '/v1.41/plugins/bench/mini/enable?timeout=0')));
    if (i === 0) {
      const dockerd = Number(readFileSync(join(dir, 'docker.pid'), 'utf8'));
      const pids = (name: string) =>
        spawnSync('pgrep', ['-f', name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      const containerd = pids(`containerd --config ${dir}`).concat(pids(`${dir}/exec/containerd`));
      const shims = pids('containerd-shim-runc-v2 -namespace plugins.moby');
      rss = [dockerd, ...new Set(containerd), ...shims].reduce(
        (sum, pid) => sum + (existsSync(`/proc/${pid}`) ? rssMiB(pid) : 0),
        0,
      );
    }
    disable.push(await timed(() => client.json('POST', '/v1.41/plugins/bench/mini/disable')));
  }
  spawnSync('docker', ['plugin', 'rm', '-f', 'bench/mini'], { env });
  execFileSync(REFERENCE_DOCKERD, ['stop', dir], { stdio: 'ignore' });
  return { enable, disable, rss };
}

/** Where the time goes: berthd's traced phases (medians per phase) and bare runc's steps, in ms. */
function printBreakdown(b: Awaited<ReturnType<typeof berthFigures>>): void {
  const line = (title: string, parts: [string, number][]) =>
    console.log(`${title}: ${parts.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  console.log('\nbreakdown (medians, ms; each phase is the time since the previous mark):');
  for (const [part, ops] of Object.entries(b.phases))
    for (const [op, m] of ops) line(`  berthd ${op} [${part}, n=${m.n}]`, m.phases);
  line('  bare runc', Object.entries(b.steps));
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-plugins-'));
try {
  const ctx = miniContext(dir);
  const b = await berthFigures(dir, ctx);
  const d = values['no-dockerd'] || !existsSync(REFERENCE_DOCKERD) ? undefined : await dockerdFigures(ctx);
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, medians of ${RUNS} runs`,
  );
  const rows: [string, string][] = [
    ['enable, berth (API call; socket answers when it returns)', fmt(median(b.enable))],
    ['enable, bare `runc run` of the same bundle until the socket accepts', fmt(median(b.bare))],
    ['  ratio berth / bare runc', (median(b.enable) / median(b.bare)).toFixed(2)],
    [
      '  (`runc run -d` forked by the bench, polled once it exited; the earlier floor)',
      fmt(median(b.detached)),
    ],
    ...(d
      ? ([['enable, reference dockerd 20.10 (API, timeout=0)', fmt(median(d.enable))]] as [string, string][])
      : []),
    ['disable, berth', fmt(median(b.disable))],
    ['disable, bare `runc kill` + wait + `runc delete`', fmt(b.steps.disable)],
    ['  ratio berth / bare runc', (median(b.disable) / b.steps.disable).toFixed(2)],
    ...(d ? ([['disable, reference dockerd 20.10', fmt(median(d.disable))]] as [string, string][]) : []),
    [`enable ${MANY - 10} more plugins at once (10 already running)`, fmt(b.manyMs)],
    ['  berthd CPU time meanwhile', fmt(b.manyCpuMs)],
    [
      `restore after kill -9: berthd start until all ${MANY} enabled plugins run (adopted)`,
      `${fmt(b.restoreMs)} (${b.restoredRunning} running)`,
    ],
    ['  berthd CPU time until then', fmt(b.restoreCpuMs)],
    ['  ratio restore / one bare runc enable', (b.restoreMs / median(b.bare)).toFixed(1)],
    [
      '  the same with berth-spawner killed too (containers deleted, started again)',
      `${fmt(b.coldRestoreMs)} (${b.coldRestoredRunning} running)`,
    ],
    ['  ratio / one bare runc enable', (b.coldRestoreMs / median(b.bare)).toFixed(1)],
    [
      `berthd RSS idle / 1 / 10 / ${MANY} plugins`,
      `${b.rssIdle.toFixed(0)} / ${b.rss1.toFixed(0)} / ${b.rss10.toFixed(0)} / ${b.rssMany.toFixed(0)} MiB`,
    ],
    [`  ${MANY} plugins, lowest over 6 s idle after the enables`, `${b.rssManySettled.toFixed(0)} MiB`],
    ...(d
      ? ([['dockerd + containerd + shim RSS, 1 plugin', `${d.rss.toFixed(0)} MiB`]] as [string, string][])
      : []),
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(76)} ${v}`);
  printBreakdown(b);
  recordMetrics('plugin-lifecycle', [
    {
      id: 'enable',
      label: 'plugin enable (until the socket answers)',
      unit: 'ms',
      berth: median(b.enable),
      runc: median(b.bare),
      dockerd: d ? median(d.enable) : undefined,
      goal: '≤ 1.10 × bare runc',
      lowerIsBetter: true,
    },
    {
      id: 'disable',
      label: 'plugin disable (bare runc: kill + wait + delete)',
      unit: 'ms',
      berth: median(b.disable),
      runc: b.steps.disable,
      goal: '≤ 1.10 × bare runc',
      dockerd: d ? median(d.disable) : undefined,
      lowerIsBetter: true,
    },
    {
      id: 'enable-many',
      label: `enable ${MANY - 10} plugins at once`,
      unit: 's',
      berth: b.manyMs / 1000,
      lowerIsBetter: true,
    },
    {
      id: 'restore',
      label: `restore of ${MANY} enabled plugins after kill -9, adopted from berth-spawner (bare runc: one enable)`,
      unit: 's',
      berth: b.restoreMs / 1000,
      runc: median(b.bare) / 1000,
      goal: '≤ 50 × one bare runc enable',
      lowerIsBetter: true,
    },
    {
      id: 'restore-cold',
      label: `restore of ${MANY} plugins after kill -9 of berthd and berth-spawner: deleted and started again (bare runc: one enable)`,
      unit: 's',
      berth: b.coldRestoreMs / 1000,
      runc: median(b.bare) / 1000,
      lowerIsBetter: true,
    },
    rssMetric('rss-idle', 'daemon RSS, idle after start', b.rssIdle, { goal: '≤ 50 MiB' }),
    rssMetric(
      'rss-1',
      `daemon RSS, 1 plugin enabled (after ${RUNS} enable/disable cycles and ${MANY} creates; dockerd: + containerd + shim)`,
      b.rss1,
      d ? { dockerd: d.rss } : {},
    ),
    rssMetric('rss-10', 'daemon RSS, 10 plugins', b.rss10),
    rssMetric('rss-many', `daemon RSS, ${MANY} plugins`, b.rssMany, { goal: '≤ 60 MiB (100 plugins)' }),
    rssMetric(
      'rss-many-settled',
      `daemon RSS, ${MANY} plugins, lowest over 6 s idle (after berthd's idle compaction)`,
      b.rssManySettled,
      { goal: '≤ 60 MiB (100 plugins)' },
    ),
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
