/**
 * Soak: berthd under many enable/disable cycles and API requests at once must not leak. After a warm-up (JIT, lazy
 * modules, V8's heap at its working size), it takes berthd's RSS and open file descriptors, then runs `--cycles`
 * enable/disable cycles (over `--plugins` plugins cycling in parallel) while `--requests` API requests
 * (`GET /plugins`, `GET /info`, `GET /plugins/<name>/json`, 8 connections) go on, lets it settle, and takes them
 * again; RSS as its lowest over `--settle` ms of idleness each time. Goals (issue 16): RSS growth ≤ 5 MiB, the same open fds.
 *
 *   node --import tsx bench/soak.ts [--cycles 10000] [--requests 100000] [--plugins 8] [--settle 10000] [--detail]
 *
 * `--detail` also prints where berthd's RSS lies at each measure (fixtures/memory-map.ts: V8's heap pages, malloc's
 * heaps, JIT code, files) and V8's own view (old space committed and used, external memory), asked of berthd
 * through fixtures/heap-report.mjs, which this loads into it.
 *
 * Needs root, runc, gcc with static libc (the plugin is bench/fixtures/mini-plugin.c); run npm run build first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tar from 'tar';
import { Agent, request } from 'undici';
import { type BenchDaemon, startBerthd, stopBerthd } from './fixtures/berthd.ts';
import { type HeapReport, heapReport, type MemoryGroup, memoryMap } from './fixtures/memory-map.ts';
import { miniContext } from './fixtures/mini-plugin.ts';
import { settledUsage } from './fixtures/processes.ts';
import { recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '100000' },
    plugins: { type: 'string', default: '8' },
    settle: { type: 'string', default: '10000' },
    detail: { type: 'boolean', default: false },
  },
});
const CYCLES = Number(values.cycles);
const REQUESTS = Number(values.requests);
const PLUGINS = Number(values.plugins);
const CONNECTIONS = 8;
/** How long berthd is left idle before each measure (see settledUsage()). */
const SETTLE_MS = Number(values.settle);

async function call(agent: Agent, method: 'GET' | 'POST', path: string): Promise<void> {
  const res = await request(`http://berth/v1.41${path}`, { method, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
}

/** `count` enable/disable cycles of plugin `name`. */
async function cycle(agent: Agent, name: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await call(agent, 'POST', `/plugins/${name}/enable`);
    await call(agent, 'POST', `/plugins/${name}/disable`);
  }
}

/** `count` API requests over `CONNECTIONS` concurrent loops. */
async function load(agent: Agent, count: number): Promise<void> {
  const paths = ['/plugins', '/info', '/plugins/soak/p0/json'];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) await call(agent, 'GET', paths[next++ % paths.length] as string);
    }),
  );
}

/** Cycles and requests at once, spread over the plugins. */
async function round(d: BenchDaemon, cycles: number, requests: number): Promise<void> {
  const agent = new Agent({ connect: { socketPath: d.socket }, connections: CONNECTIONS + PLUGINS });
  const per = Math.ceil(cycles / PLUGINS);
  await Promise.all([
    ...Array.from({ length: PLUGINS }, (_, i) => cycle(agent, `soak/p${i}`, per)),
    load(agent, requests),
  ]);
  await agent.close(); // the client's keep-alive sockets are not berthd's leak
}

interface Detail {
  readonly map: Record<MemoryGroup, number>;
  readonly heap: HeapReport;
}

/** The `--detail` lines: each group's resident MiB and V8's spaces, before → after. */
function printDetail(b: Detail, a: Detail): void {
  const mib = (kb: number) => (kb / 1024).toFixed(1);
  for (const g of Object.keys(b.map) as MemoryGroup[])
    console.log(`  ${g.padEnd(21)} ${mib(b.map[g])} → ${mib(a.map[g])} MiB`);
  const space = (d: Detail, name: string) => {
    const s = d.heap.spaces[name];
    return s ? `${s.committed}/${s.used}` : '-';
  };
  for (const name of ['old_space', 'new_space', 'code_space', 'large_object_space'])
    console.log(`  V8 ${name.padEnd(18)} ${space(b, name)} → ${space(a, name)} MiB committed/used`);
  for (const k of ['heapTotal', 'heapUsed', 'external', 'arrayBuffers'])
    console.log(`  ${k.padEnd(21)} ${b.heap.memoryUsage[k]} → ${a.heap.memoryUsage[k]} MiB`);
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-soak-'));
const reportFile = join(dir, 'heap-report.json');
if (values.detail) {
  const hook = new URL('./fixtures/heap-report.mjs', import.meta.url).pathname;
  process.env.BERTHD_NODE_FLAGS = [process.env.BERTHD_NODE_FLAGS, '--import', hook].filter(Boolean).join(' ');
  process.env.BERTH_BENCH_HEAP_REPORT = reportFile;
}
const d = await startBerthd(dir, ['--no-runtime-smoke-test']);
const pid = d.child.pid as number;
const detail = async (): Promise<Detail | undefined> =>
  values.detail ? { map: memoryMap(pid), heap: await heapReport(pid, reportFile) } : undefined;
try {
  const ctx = miniContext(dir);
  for (let i = 0; i < PLUGINS; i++) {
    const stream = tar.c({ cwd: ctx }, ['.']) as unknown as import('node:stream').Readable;
    await d.client.json('POST', `/plugins/create?name=soak/p${i}`, {
      upload: { stream, contentType: 'application/x-tar' },
    });
  }
  const warm = {
    // Long enough for V8's old space and the first-use modules to reach their working size even in --quick.
    cycles: Math.max(PLUGINS * 25, Math.round(CYCLES / 20)),
    requests: Math.max(5000, Math.round(REQUESTS / 20)),
  };
  await round(d, warm.cycles, warm.requests);
  const before = await settledUsage(pid, SETTLE_MS);
  const beforeDetail = await detail();
  const t = performance.now();
  await round(d, CYCLES, REQUESTS);
  const seconds = (performance.now() - t) / 1000;
  const after = await settledUsage(pid, SETTLE_MS); // also the timers of the last disables, sockets closing
  const afterDetail = await detail();
  const growth = after.rss - before.rss;
  console.log(`warm-up: ${warm.cycles} cycles, ${warm.requests} requests`);
  console.log(
    `${CYCLES} enable/disable cycles (${PLUGINS} plugins in parallel) + ${REQUESTS} API requests in ${seconds.toFixed(0)} s`,
  );
  console.log(
    `berthd RSS (lowest over ${SETTLE_MS / 1000} s idle) ${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB; goal ≤ 5)`,
  );
  console.log(`open fds ${before.fds} → ${after.fds} (goal: unchanged)`);
  if (beforeDetail && afterDetail) printDetail(beforeDetail, afterDetail);
  recordMetrics('soak', [
    {
      id: 'soak-rss-growth',
      label: `RSS growth over ${CYCLES} enable/disable cycles + ${REQUESTS} API requests`,
      unit: 'MiB',
      berth: growth,
      goal: '≤ 5 MiB',
      lowerIsBetter: true,
    },
    {
      id: 'soak-fd-growth',
      label: `open fds after − before the soak (${before.fds} before)`,
      unit: 'fds',
      berth: after.fds - before.fds,
      goal: '0',
      lowerIsBetter: true,
    },
  ]);
} finally {
  await stopBerthd(d);
  rmSync(dir, { recursive: true, force: true });
}
