/**
 * API load: 50 concurrent connections on `GET /plugins` and `GET /info` over the unix socket (autocannon), berthd
 * vs the reference dockerd 20.10 in the same run, each holding the same 10 created plugins (2 enabled).
 *
 *   node --import tsx bench/api-load.ts [--seconds 5] [--no-dockerd]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error autocannon ships no types (and @types/autocannon lags its major)
import autocannon from 'autocannon';
import { startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, 'no-dockerd': { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
const ROOT = new URL('../', import.meta.url).pathname;
const REFERENCE_DOCKERD = join(ROOT, '../shared/tools/reference-dockerd');
const PLUGINS = 10;

interface Load {
  readonly rps: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

async function load(socketPath: string, path: string): Promise<Load> {
  const r = await autocannon({
    url: `http://localhost${path}`,
    socketPath,
    connections: 50,
    duration: SECONDS,
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/** Creates the plugins from contexts that differ by one file: dockerd refuses two identical rootfs (plugins.md §1.4). */
function populate(host: string, ctx: string): void {
  const env = { ...process.env, DOCKER_HOST: host };
  for (let i = 0; i < PLUGINS; i++) {
    const variant = `${ctx}-${i}`;
    cpSync(ctx, variant, { recursive: true });
    writeFileSync(join(variant, 'rootfs', 'variant'), String(i));
    execFileSync('docker', ['plugin', 'create', `bench/p${i}`, variant], { env, stdio: 'ignore' });
  }
  for (let i = 0; i < 2; i++)
    execFileSync('docker', ['plugin', 'enable', `bench/p${i}`], { env, stdio: 'ignore' });
}

function cleanup(host: string): void {
  const env = { ...process.env, DOCKER_HOST: host };
  for (let i = 0; i < PLUGINS; i++)
    spawnSync('docker', ['plugin', 'rm', '-f', `bench/p${i}`], { env, stdio: 'ignore' });
}

async function berth(dir: string, ctx: string) {
  const d = await startBerthd(dir);
  populate(`unix://${d.socket}`, ctx);
  const result = {
    plugins: await load(d.socket, '/v1.41/plugins'),
    info: await load(d.socket, '/v1.41/info'),
  };
  cleanup(`unix://${d.socket}`);
  await stopBerthd(d);
  return result;
}

async function dockerd(ctx: string) {
  const dir = '/tmp/berth-bench-dockerd';
  execFileSync(REFERENCE_DOCKERD, ['start', dir], { stdio: 'ignore' });
  const sock = join(dir, 'docker.sock');
  cleanup(`unix://${sock}`);
  populate(`unix://${sock}`, ctx);
  const result = { plugins: await load(sock, '/v1.41/plugins'), info: await load(sock, '/v1.41/info') };
  cleanup(`unix://${sock}`);
  execFileSync(REFERENCE_DOCKERD, ['stop', dir], { stdio: 'ignore' });
  return result;
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-api-'));
try {
  const ctx = miniContext(dir);
  const b = await berth(dir, ctx);
  const d = values['no-dockerd'] || !existsSync(REFERENCE_DOCKERD) ? undefined : await dockerd(ctx);
  console.log(
    `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, autocannon 50 connections, ${SECONDS} s each`,
  );
  const row = (name: string, l: Load) =>
    console.log(
      `${name.padEnd(28)} ${l.rps.toFixed(0).padStart(8)} req/s   p99 ${String(l.p99).padStart(4)} ms   errors ${l.errors}   non-2xx ${l.non2xx}`,
    );
  row('berthd GET /plugins', b.plugins);
  if (d) row('dockerd GET /plugins', d.plugins);
  row('berthd GET /info', b.info);
  if (d) row('dockerd GET /info', d.info);
  recordMetrics(
    'api-load',
    (['plugins', 'info'] as const).flatMap((ep) => [
      {
        id: `api-${ep}-rps`,
        label: `GET /${ep}, 50 connections: throughput`,
        unit: 'req/s' as const,
        berth: b[ep].rps,
        dockerd: d?.[ep].rps,
        lowerIsBetter: false,
      },
      {
        id: `api-${ep}-p99`,
        label: `GET /${ep}, 50 connections: p99 latency`,
        unit: 'ms' as const,
        berth: b[ep].p99,
        dockerd: d?.[ep].p99,
        lowerIsBetter: true,
      },
    ]),
  );
  const failed = [b.plugins, b.info].some((l) => l.errors || l.non2xx);
  if (failed) throw new Error('berthd answered with errors under load');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
