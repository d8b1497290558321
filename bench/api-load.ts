/**
 * API load: 50 concurrent connections on `GET /plugins` and `GET /info` over the unix socket (autocannon), berthd
 * vs the reference dockerd 20.10 in the same run, first with 2 plugins installed (both enabled), then with `--many`
 * (default 100; 2 of them enabled). Rounds alternate between the daemons (and their order), so a load spike on this
 * shared machine hits both; each figure is the median of the rounds.
 *
 *   node --import tsx bench/api-load.ts [--seconds 2] [--rounds 5] [--many 100] [--no-dockerd]
 *                                       [--baseline /path/to/other/bin/berthd.js] [--floor]
 *
 * `--baseline` adds a second berthd (another build, e.g. a checkout before a change) to the same rounds: the
 * before/after figures of an optimisation, measured in one run. `--floor` adds a bare node:http server answering
 * berthd's own bytes for each path (bench/fixtures/bare-http.ts): what one Node thread serves with no framework
 * and no work per request, under the same load generator on the same cores.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error autocannon ships no types (and @types/autocannon lags its major)
import autocannon from 'autocannon';
import { startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { type Metric, recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    many: { type: 'string', default: '100' },
    baseline: { type: 'string' },
    'no-dockerd': { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const MANY = Number(values.many);
const ROOT = new URL('../', import.meta.url).pathname;
const REFERENCE_DOCKERD = join(ROOT, '../shared/tools/reference-dockerd');
const ENDPOINTS = ['plugins', 'info'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

interface Load {
  readonly rps: number;
  readonly p99: number;
  /** The daemon's CPU time per request served (user + system): its cost, whatever else the machine runs. */
  readonly cpuUs: number;
  /** The load generator's (this process's) CPU time per request. */
  readonly clientUs: number;
  readonly errors: number;
  readonly non2xx: number;
}

interface Target {
  readonly name: string;
  readonly socket: string;
  readonly pid: number;
}

/** utime + stime of a process, in µs (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuTimeUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function load(t: Target, path: string): Promise<Load> {
  const cpu0 = cpuTimeUs(t.pid);
  const client0 = process.cpuUsage();
  const r = await autocannon({
    url: `http://localhost${path}`,
    socketPath: t.socket,
    connections: 50,
    duration: SECONDS,
  });
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    cpuUs: (cpuTimeUs(t.pid) - cpu0) / Math.max(1, r.requests.total),
    clientUs: ((u) => (u.user + u.system) / Math.max(1, r.requests.total))(process.cpuUsage(client0)),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Creates plugins `from..to-1` from contexts that differ by one file: dockerd refuses two identical rootfs. */
function populate(socket: string, ctx: string, from: number, to: number, enable: boolean): void {
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  for (let i = from; i < to; i++) {
    const variant = `${ctx}-${i}`;
    if (!existsSync(variant)) {
      cpSync(ctx, variant, { recursive: true });
      writeFileSync(join(variant, 'rootfs', 'variant'), String(i));
    }
    execFileSync('docker', ['plugin', 'create', `bench/p${i}`, variant], { env, stdio: 'ignore' });
    if (enable) execFileSync('docker', ['plugin', 'enable', `bench/p${i}`], { env, stdio: 'ignore' });
  }
}

function cleanup(socket: string, count: number): void {
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  for (let i = 0; i < count; i++)
    spawnSync('docker', ['plugin', 'rm', '-f', `bench/p${i}`], { env, stdio: 'ignore' });
}

/** berthd's answer to `path`, as bare-http.ts replays it (its own Date and keep-alive headers are node's). */
function capture(socket: string, path: string): Promise<unknown> {
  const own = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
  return new Promise((resolve, reject) => {
    request({ socketPath: socket, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const [k = '', v = ''] = res.rawHeaders.slice(i, i + 2);
          if (!own.has(k.toLowerCase())) headers.push([k, v]);
        }
        resolve({ status: res.statusCode, headers, body: Buffer.concat(chunks).toString('base64') });
      });
    })
      .on('error', reject)
      .end();
  });
}

/** The floor target: a bare node:http server replaying berthd's current answers to the bench's paths. */
async function startFloor(
  berthdSocket: string,
  sub: string,
): Promise<{ child: ChildProcess; target: Target }> {
  const answers: Record<string, unknown> = {};
  for (const ep of ENDPOINTS) answers[`/v1.41/${ep}`] = await capture(berthdSocket, `/v1.41/${ep}`);
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, 'answers.json'), JSON.stringify(answers));
  const socket = join(sub, 'bare.sock');
  rmSync(socket, { force: true });
  const script = join(ROOT, 'bench/fixtures/bare-http.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, socket, join(sub, 'answers.json')], {
    stdio: 'ignore',
  });
  while (!existsSync(socket)) await new Promise((r) => setTimeout(r, 10));
  return { child, target: { name: 'bare node', socket, pid: child.pid ?? 0 } };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

type Figures = Map<string, Record<Endpoint, Load[]>>;

/** ROUNDS rounds over every target and endpoint; the order of the targets flips every round. */
async function measure(targets: readonly Target[]): Promise<Figures> {
  const figures: Figures = new Map(targets.map((t) => [t.name, { plugins: [], info: [] }]));
  for (const ep of ENDPOINTS) for (const t of targets) await load(t, `/v1.41/${ep}`); // JIT warm-up, untimed
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...targets].reverse() : targets;
    for (const ep of ENDPOINTS)
      for (const t of order) figures.get(t.name)?.[ep].push(await load(t, `/v1.41/${ep}`));
  }
  return figures;
}

function summarise(loads: readonly Load[]): Load {
  return {
    rps: median(loads.map((l) => l.rps)),
    p99: median(loads.map((l) => l.p99)),
    cpuUs: median(loads.map((l) => l.cpuUs)),
    clientUs: median(loads.map((l) => l.clientUs)),
    errors: loads.reduce((n, l) => n + l.errors, 0),
    non2xx: loads.reduce((n, l) => n + l.non2xx, 0),
  };
}

function print(count: number, figures: Figures): void {
  for (const ep of ENDPOINTS) {
    const dockerd = figures.get('dockerd') ? summarise(figures.get('dockerd')?.[ep] ?? []) : undefined;
    for (const [name, f] of figures) {
      const l = summarise(f[ep]);
      const vs =
        dockerd && name !== 'dockerd'
          ? `   ${(l.rps / dockerd.rps).toFixed(2)}× dockerd's req/s, p99 ${l.p99 <= dockerd.p99 ? '≤' : '>'} dockerd's`
          : '';
      console.log(
        `${`${name} GET /${ep} (${count} plugins)`.padEnd(40)} ${l.rps.toFixed(0).padStart(8)} req/s   p99 ${String(l.p99).padStart(4)} ms   CPU ${l.cpuUs.toFixed(0).padStart(4)} µs/req (client ${l.clientUs.toFixed(0)})   errors ${l.errors}   non-2xx ${l.non2xx}${vs}`,
      );
    }
  }
}

function metricsOf(count: number, figures: Figures): Metric[] {
  return ENDPOINTS.flatMap((ep) => {
    const b = summarise(figures.get('berthd')?.[ep] ?? []);
    const d = figures.get('dockerd') ? summarise(figures.get('dockerd')?.[ep] ?? []) : undefined;
    return [
      {
        id: `api-${ep}-${count}-rps`,
        label: `GET /${ep}, ${count} plugins, 50 connections: throughput`,
        unit: 'req/s' as const,
        berth: b.rps,
        dockerd: d?.rps,
        lowerIsBetter: false,
        goal: '≥ 1.5× dockerd',
      },
      {
        id: `api-${ep}-${count}-p99`,
        label: `GET /${ep}, ${count} plugins, 50 connections: p99 latency`,
        unit: 'ms' as const,
        berth: b.p99,
        dockerd: d?.p99,
        lowerIsBetter: true,
        goal: '≤ dockerd',
      },
    ];
  });
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-api-'));
const dockerdDir = join(dir, 'dockerd'); // private: never another engineer's dockerd
const useDockerd = !values['no-dockerd'] && existsSync(REFERENCE_DOCKERD);
const daemons: Awaited<ReturnType<typeof startBerthd>>[] = [];
try {
  for (const sub of ['berthd', 'baseline']) mkdirSync(join(dir, sub));
  const ctx = miniContext(dir);
  const targets: Target[] = [];
  const berthd = await startBerthd(join(dir, 'berthd'));
  daemons.push(berthd);
  targets.push({ name: 'berthd', socket: berthd.socket, pid: berthd.child.pid ?? 0 });
  if (values.baseline) {
    const base = await startBerthd(join(dir, 'baseline'), [], values.baseline);
    daemons.push(base);
    targets.push({ name: 'baseline', socket: base.socket, pid: base.child.pid ?? 0 });
  }
  if (useDockerd) {
    execFileSync(REFERENCE_DOCKERD, ['start', dockerdDir], { stdio: 'ignore' });
    const pid = Number(readFileSync(join(dockerdDir, 'docker.pid'), 'utf8'));
    targets.push({ name: 'dockerd', socket: join(dockerdDir, 'docker.sock'), pid });
  }
  console.log(
    `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, autocannon 50 connections, ${ROUNDS} rounds × ${SECONDS} s per daemon and endpoint`,
  );
  const metrics: Metric[] = [];
  let installed = 0;
  for (const count of [2, MANY]) {
    for (const t of targets) populate(t.socket, ctx, installed, count, installed === 0);
    installed = count;
    const floor = values.floor ? await startFloor(berthd.socket, join(dir, `floor-${count}`)) : undefined;
    const figures = await measure(floor ? [...targets, floor.target] : targets);
    floor?.child.kill();
    print(count, figures);
    metrics.push(...metricsOf(count, figures));
    const b = figures.get('berthd');
    if (b && [...b.plugins, ...b.info].some((l) => l.errors || l.non2xx))
      throw new Error('berthd answered with errors under load');
  }
  recordMetrics('api-load', metrics);
  for (const t of targets) cleanup(t.socket, installed);
} finally {
  for (const d of daemons) await stopBerthd(d);
  if (useDockerd) spawnSync(REFERENCE_DOCKERD, ['stop', dockerdDir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
