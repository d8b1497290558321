/**
 * berthd with the containerd executor, each figure compared in the same run with the real thing:
 *   - plugin enable through `berthd --containerd` (API call until it returns; the socket answers by then) vs
 *     `ctr run -d` of the same spec and rootfs until the socket accepts, vs the reference dockerd 20.10 (which also
 *     goes through containerd)
 *   - restore of MANY running plugins after kill -9 of berthd: berthd's spawn until every plugin runs again (berthd
 *     listens first, then adopts every running task), and the bench checks that all MANY are running with the
 *     pids they had before the kill (adopted, not restarted); beside it, the same berthd start with nothing to restore
 *   - RSS of berthd + containerd + shims (and the plugins under them) with 1, 10 and MANY plugins, vs dockerd +
 *     containerd + shims: the summed RSS of every process whose command line names the daemon's private directory,
 *     and of their descendants
 *
 *   node --import tsx bench/containerd.ts [--runs 11] [--many 100] [--no-dockerd]
 *
 * A private containerd is started here (own socket, root, state under a temp dir) and stopped by pid; so is the
 * reference dockerd (its own containerd). Needs root, containerd 1.6, ctr, runc, gcc with static libc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tar from 'tar';
import { BerthClient } from '../src/client/index.ts';
import { ContainerdClient } from '../src/containerd/index.ts';
import { socketAddress } from '../src/host/index.ts';
import { canConnect } from '../src/plugins/index.ts';
import { startBerthd } from './fixtures/berthd.ts';
import {
  type BenchContainerd,
  plainContainerdConfig,
  startPrivateContainerd,
} from './fixtures/containerd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { pidsWith, processTable, sumRss, treeOf } from './fixtures/processes.ts';
import { type Metric, recordMetrics } from './report.ts';

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
const NAMESPACE = 'berth-bench';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The context as a tar; `n` marks the rootfs (dockerd refuses a second plugin with the very same layer). */
const upload = (ctx: string, n?: number) => {
  if (n !== undefined) writeFileSync(join(ctx, 'rootfs', '.bench'), String(n));
  return {
    stream: tar.c({ cwd: ctx }, ['.']) as unknown as import('node:stream').Readable,
    contentType: 'application/x-tar',
  };
};

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** The summed RSS (MiB) of `daemon`'s tree and of every process naming `dir`, with their trees. */
function rssOf(daemon: number, dir: string): number {
  const table = processTable();
  const own = pidsWith(table, `${dir}/`).filter((p) => p !== process.pid);
  return sumRss(treeOf(table, [daemon, ...own]));
}

/** The spec berth gave containerd, as a file `ctr run --config` reads (its root absolute, as berth sends it). */
function specFile(bundle: string, out: string): string {
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { root: { path: string } };
  spec.root.path = realpathSync(isAbsolute(spec.root.path) ? spec.root.path : join(bundle, spec.root.path));
  writeFileSync(out, JSON.stringify(spec));
  return out;
}

/** `ctr run -d --config SPEC` in its own namespace, then poll the socket (0.5 ms) until it accepts. */
async function ctrRun(ctrd: BenchContainerd, spec: string, socketDir: string): Promise<number> {
  const id = 'ctr-bench';
  rmSync(join(socketDir, 'mini.sock'), { force: true });
  const address = socketAddress(socketDir, 'mini.sock');
  const ctr = (...args: string[]) => ['--address', ctrd.socket, '-n', 'bench-ctr', ...args];
  try {
    const t = performance.now();
    const r = spawnSync('ctr', ctr('run', '-d', '--config', spec, id), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`ctr run: ${r.stderr}`);
    while (!(await canConnect(address.path))) {
      if (performance.now() - t > 10_000) throw new Error('ctr run: the plugin never listened');
      await sleep(0.5);
    }
    return performance.now() - t;
  } finally {
    address.close();
    spawnSync('ctr', ctr('tasks', 'rm', '-f', id), { stdio: 'ignore', timeout: 10_000 });
    spawnSync('ctr', ctr('containers', 'rm', id), { stdio: 'ignore', timeout: 10_000 });
  }
}

async function enableMany(client: BerthClient, prefix: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 10)
    await Promise.all(
      Array.from({ length: Math.min(10, to - i) }, (_, k) =>
        client.json('POST', `${prefix}/plugins/bench/m${i + k}/enable${prefix ? '?timeout=0' : ''}`),
      ),
    );
}

/** The daemon's tree RSS with 1, 10 and MANY plugins enabled (from none). */
async function rssAtSteps(
  client: BerthClient,
  prefix: string,
  daemon: number,
  dir: string,
): Promise<number[]> {
  const rss: number[] = [];
  for (const [from, to] of [
    [0, 1],
    [1, 10],
    [10, MANY],
  ] as const) {
    await enableMany(client, prefix, from, to);
    await sleep(500);
    rss.push(rssOf(daemon, dir));
  }
  return rss;
}

/** The berthd running now, killed if the bench fails half-way. */
let current: import('node:child_process').ChildProcess | undefined;

async function berthFigures(dir: string, ctx: string, ctrd: BenchContainerd) {
  const args = ['--no-runtime-smoke-test', '--containerd', `unix://${ctrd.socket}`];
  args.push('--containerd-namespace', NAMESPACE);
  // The same berthd with nothing to restore, on another data root and namespace: what a start costs by itself.
  const emptyStart: number[] = [];
  const emptyArgs = [...args.slice(0, -1), `${NAMESPACE}-empty`];
  for (let i = 0; i < RUNS; i++) {
    const empty = await startBerthd(join(dir, 'empty'), emptyArgs);
    current = empty.child;
    emptyStart.push(empty.startedMs);
    empty.child.kill('SIGKILL');
    await new Promise((r) => empty.child.once('exit', r));
  }
  let daemon = await startBerthd(dir, args);
  current = daemon.child;
  const { client } = daemon;
  await client.json('POST', '/plugins/create?name=bench/mini', { upload: upload(ctx, -1) });
  const id = (await client.json<{ Id: string }>('GET', '/plugins/bench/mini/json')).Id;
  const enable: number[] = [];
  const bare: number[] = [];
  let spec = '';
  for (let i = 0; i < RUNS; i++) {
    enable.push(await timed(() => client.json('POST', '/plugins/bench/mini/enable')));
    spec ||= specFile(join(dir, 'exec/plugin-bundles', id), join(dir, 'ctr-spec.json'));
    await client.json('POST', '/plugins/bench/mini/disable');
    bare.push(await ctrRun(ctrd, spec, join(dir, 'exec/plugins', id)));
  }
  await client.json('DELETE', '/plugins/bench/mini');

  for (let i = 0; i < MANY; i++)
    await client.json('POST', `/plugins/create?name=bench/m${i}`, { upload: upload(ctx, i) });
  const rss = await rssAtSteps(client, '', daemon.child.pid ?? 0, dir);

  // Restore: kill -9, restart, berthd's spawn until every plugin runs again; all adopted, none restarted?
  const tasks = new ContainerdClient(ctrd.socket, NAMESPACE);
  const pids = async () => new Map((await tasks.listTasks()).map((t) => [t.id, `${t.pid} ${t.status}`]));
  const restore: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const before = await pids();
    daemon.child.kill('SIGKILL');
    await new Promise((r) => daemon.child.once('exit', r));
    const spawned = performance.now();
    daemon = await startBerthd(dir, args);
    current = daemon.child;
    // berthd listens first and restores after (boot order): the figure ends when every plugin runs again.
    let running = 0;
    for (const t = performance.now(); running < MANY && performance.now() - t < 120_000; await sleep(5)) {
      const plugins = await daemon.client.json<{ Status: { State: string } }[]>('GET', '/plugins');
      running = plugins.filter((p) => p.Status.State === 'running').length;
    }
    restore.push(performance.now() - spawned);
    const after = await pids();
    const same = [...before].filter(([k, v]) => after.get(k) === v && v.endsWith('RUNNING')).length;
    if (running !== MANY || same !== MANY || after.size !== MANY)
      throw new Error(
        `restore ${i}: ${running} running, ${same} of ${MANY} tasks adopted, ${after.size} tasks`,
      );
  }
  tasks.close();
  daemon.child.kill('SIGTERM'); // without --live-restore: berthd stops its plugins
  await new Promise((r) => daemon.child.once('exit', r));
  return { enable, bare, rss, restore, emptyStart };
}

async function dockerdFigures(ctx: string) {
  const dir = '/tmp/berth-bench-dockerd-containerd';
  execFileSync(REFERENCE_DOCKERD, ['start', dir], { stdio: 'ignore' });
  const client = new BerthClient(`unix://${join(dir, 'docker.sock')}`);
  const removeAll = async () => {
    for (const p of await client.json<{ Name: string }[]>('GET', '/v1.41/plugins'))
      await client.json('DELETE', `/v1.41/plugins/${p.Name}?force=1`);
  };
  try {
    await removeAll();
    await client.json('POST', '/v1.41/plugins/create?name=bench/mini', { upload: upload(ctx, -1) });
    const enable: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      enable.push(await timed(() => client.json('POST', '/v1.41/plugins/bench/mini/enable?timeout=0')));
      await client.json('POST', '/v1.41/plugins/bench/mini/disable');
    }
    for (let i = 0; i < MANY; i++)
      await client.json('POST', `/v1.41/plugins/create?name=bench/m${i}`, { upload: upload(ctx, i) });
    const dockerd = Number(readFileSync(join(dir, 'docker.pid'), 'utf8'));
    const rss = await rssAtSteps(client, '/v1.41', dockerd, dir);
    return { enable, rss };
  } finally {
    await removeAll().catch(() => undefined);
    execFileSync(REFERENCE_DOCKERD, ['stop', dir], { stdio: 'ignore' });
  }
}

function report(b: Awaited<ReturnType<typeof berthFigures>>, d?: Awaited<ReturnType<typeof dockerdFigures>>) {
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, medians of ${RUNS} runs`,
  );
  const rows: [string, string][] = [
    ['enable, berthd --containerd (API call; socket answers when it returns)', fmt(median(b.enable))],
    ['enable, `ctr run -d` of the same spec until the socket accepts', fmt(median(b.bare))],
    ['  ratio berth / ctr', (median(b.enable) / median(b.bare)).toFixed(2)],
    ...(d ? ([['enable, reference dockerd 20.10', fmt(median(d.enable))]] as [string, string][]) : []),
    [`restore of ${MANY} running plugins after kill -9 (all adopted)`, fmt(median(b.restore))],
    ['  of which a berthd start with nothing to restore', fmt(median(b.emptyStart))],
    [`berthd + containerd + shims RSS, 1 / 10 / ${MANY} plugins`, b.rss.map((r) => r.toFixed(0)).join(' / ')],
    ...(d
      ? ([
          [`dockerd + containerd + shims RSS, 1 / 10 / ${MANY}`, d.rss.map((r) => r.toFixed(0)).join(' / ')],
        ] as [string, string][])
      : []),
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(76)} ${v}`);
  const rss = (i: number, n: number): Metric => ({
    id: `containerd-rss-${n}`,
    label: `berthd + containerd + shims RSS, ${n} plugin${n === 1 ? '' : 's'} (dockerd: + its containerd + shims)`,
    unit: 'MiB',
    berth: b.rss[i] ?? Number.NaN,
    dockerd: d?.rss[i],
    lowerIsBetter: true,
  });
  recordMetrics('containerd', [
    {
      id: 'containerd-enable',
      label: 'plugin enable through containerd (until the socket answers; bare: `ctr run -d`)',
      unit: 'ms',
      berth: median(b.enable),
      runc: median(b.bare),
      bare: 'ctr',
      dockerd: d ? median(d.enable) : undefined,
      goal: '≤ 1.2 × ctr, ≥ 4 × faster than dockerd',
      lowerIsBetter: true,
    },
    {
      id: 'containerd-restore',
      label: `restore of ${MANY} running plugins after kill -9, containerd (adopted)`,
      unit: 's',
      berth: median(b.restore) / 1000,
      goal: '≤ 1 s',
      lowerIsBetter: true,
    },
    {
      id: 'containerd-empty-start',
      label: 'berthd --containerd start with nothing to restore (spawn until the socket accepts)',
      unit: 's',
      berth: median(b.emptyStart) / 1000,
      lowerIsBetter: true,
    },
    rss(0, 1),
    rss(1, 10),
    rss(2, MANY),
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-ctrd-'));
let ctrd: BenchContainerd | undefined;
try {
  const ctx = miniContext(dir);
  ctrd = await startPrivateContainerd(join(dir, 'ctrd'), plainContainerdConfig(join(dir, 'ctrd')));
  const b = await berthFigures(dir, ctx, ctrd);
  await ctrd.stop();
  ctrd = undefined;
  const d = values['no-dockerd'] || !existsSync(REFERENCE_DOCKERD) ? undefined : await dockerdFigures(ctx);
  report(b, d);
} finally {
  if (current?.exitCode === null && current.signalCode === null) current.kill('SIGKILL');
  await ctrd?.stop();
  rmSync(dir, { recursive: true, force: true });
}
