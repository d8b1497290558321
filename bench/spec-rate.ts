/**
 * Plugin specs per second, JSON encoding included, for the plugin dockerd 20.10.24 was measured with
 * (test/fixtures/dockerd/api-inspect-raw.json).
 *
 *   npm run bench            (node --import tsx bench/spec-rate.ts [--seconds-per-run 1] [--runs 11])
 *
 * Three cases: the pure spec function (host facts gathered once, as berthd does at enable), the full path
 * with host facts read every time (mkdir of the socket dir, lstat of the device, like moby's InitSpec),
 * and defaultSpec() alone as a floor. Each run counts operations for a fixed time; the median of the runs
 * is reported.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import {
  buildPluginSpec,
  decodePlugin,
  defaultSpec,
  pluginSpec,
  resolvePluginSpecInput,
} from '../src/index.ts';
import { type Metric, recordMetrics } from './report.ts';

const { values } = parseArgs({
  options: { 'seconds-per-run': { type: 'string', default: '1' }, runs: { type: 'string', default: '11' } },
});
const runMs = Number(values['seconds-per-run']) * 1000;
const runs = Number(values.runs);

const plugin = decodePlugin(
  JSON.parse(readFileSync(new URL('../test/fixtures/dockerd/api-inspect-raw.json', import.meta.url), 'utf8')),
);
const execRoot = mkdtempSync(`${tmpdir()}/berth-bench-`);
const paths = { rootfs: `/var/lib/berth/plugins/${plugin.Id}/rootfs`, execRoot };
const input = resolvePluginSpecInput(plugin, paths);

let sink = 0; // keeps the JSON from being optimised away

async function opsPerSecond(op: () => unknown, isAsync: boolean): Promise<number> {
  let n = 0;
  const start = performance.now();
  const deadline = start + runMs;
  while (performance.now() < deadline) {
    for (let i = 0; i < 256; i++) {
      const out = isAsync ? await (op() as Promise<string>) : (op() as string);
      sink += out.length;
    }
    n += 256;
  }
  return (n * 1000) / (performance.now() - start);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const cases: [string, () => unknown, boolean, string][] = [
  [
    'pluginSpec + JSON.stringify (host facts gathered once)',
    () => JSON.stringify(pluginSpec(input)),
    false,
    'spec-rate',
  ],
  [
    'buildPluginSpec + JSON.stringify (mkdir + device lstat each time)',
    () => JSON.stringify(buildPluginSpec(plugin, paths)),
    false,
    'spec-rate-host',
  ],
  ['defaultSpec + JSON.stringify (floor)', () => JSON.stringify(defaultSpec()), false, 'spec-rate-floor'],
];
const metrics: Metric[] = [];

console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${runs} runs × ${runMs} ms`);
console.log('| case | median ops/s | min | max |');
console.log('|---|---:|---:|---:|');
for (const [name, op, isAsync, id] of cases) {
  await opsPerSecond(op, isAsync); // warm-up
  const results: number[] = [];
  for (let r = 0; r < runs; r++) results.push(await opsPerSecond(op, isAsync));
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `| ${name} | ${fmt(median(results))} | ${fmt(Math.min(...results))} | ${fmt(Math.max(...results))} |`,
  );
  metrics.push({
    id,
    label: `plugin specs per second: ${name.split(' (')[0]}`,
    unit: 'ops/s',
    berth: median(results),
    lowerIsBetter: false,
    ...(id === 'spec-rate' ? { goal: '≥ moby (≈ 66k/s)' } : {}),
  });
}
rmSync(execRoot, { recursive: true, force: true });
if (sink < 0) console.log(sink);
recordMetrics('spec-rate', metrics);
