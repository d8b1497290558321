/**
 * Plugin specs per second, JSON encoding included, for the plugin dockerd 20.10.24 was measured with
 * (test/fixtures/dockerd/api-inspect-raw.json).
 *
 *   npm run bench            (node --import tsx bench/spec-rate.ts [--seconds-per-run 1] [--runs 11])
 *
 * Four cases: the pure spec function (host facts gathered once), the full path with host facts read every time
 * (mkdir of the socket dir, lstat of the device, like moby's InitSpec) as a spec object then JSON.stringify, the
 * same full path as berthd writes a plugin's config.json (buildPluginSpecJson: byte for byte the same JSON, the
 * defaults pre-serialised; the like-for-like case), and defaultSpec() alone as a floor. Each run counts operations for a fixed time; the median of the runs
 * is reported.
 *
 * moby's Go is measured in the same run when `go` and Debian's moby sources are installed
 * (`sudo bash scripts/setup.sh --bench`: golang-go golang-github-docker-docker-dev): bench/moby-spec/main.go does moby 20.10's
 * InitSpec steps + json.Marshal with the host reads on every call, and its runs alternate with those of the
 * like-for-like berth case (buildPluginSpec), so both see the same machine load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import {
  buildPluginSpec,
  buildPluginSpecJson,
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
const FIXTURE = new URL('../test/fixtures/dockerd/api-inspect-raw.json', import.meta.url).pathname;

/** Builds bench/moby-spec in GOPATH mode over Debian's moby sources; the reason when it cannot. */
function buildMoby(): { binary: string } | { missing: string } {
  const install = 'sudo bash scripts/setup.sh --bench installs it';
  if (spawnSync('go', ['version']).status !== 0) return { missing: `go missing: ${install}` };
  const binary = `${execRoot}/moby-spec`;
  const built = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: new URL('./moby-spec', import.meta.url).pathname,
    env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '' },
    encoding: 'utf8',
  });
  if (built.status !== 0)
    return {
      missing: `moby sources missing (${install}): ${built.stderr.split('\n')[0] ?? 'go build failed'}`,
    };
  return { binary };
}

/** One timed run of moby's Go (a short warm-up inside), in ops/s. */
function mobyRun(binary: string): number {
  const out = execFileSync(
    binary,
    ['-plugin', FIXTURE, '-exec-root', `${execRoot}/moby`, '-runs', '1', '-ms', String(runMs)],
    { encoding: 'utf8' },
  );
  return (JSON.parse(out) as { runs: number[] }).runs[0] ?? 0;
}

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

const moby = buildMoby();
const mobyRuns: number[] = [];
let likeForLikeRuns: number[] = [];
const cases: [string, () => unknown, boolean, string][] = [
  [
    'pluginSpec + JSON.stringify (host facts gathered once)',
    () => JSON.stringify(pluginSpec(input)),
    false,
    'spec-rate',
  ],
  [
    'buildPluginSpec + JSON.stringify (mkdir + device lstat each time, spec object first)',
    () => JSON.stringify(buildPluginSpec(plugin, paths)),
    false,
    'spec-rate-host-object',
  ],
  [
    'buildPluginSpecJson (mkdir + device lstat each time, the JSON berthd writes)',
    () => buildPluginSpecJson(plugin, paths),
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
  for (let r = 0; r < runs; r++) {
    results.push(await opsPerSecond(op, isAsync));
    if (id === 'spec-rate-host' && 'binary' in moby) mobyRuns.push(mobyRun(moby.binary));
  }
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `| ${name} | ${fmt(median(results))} | ${fmt(Math.min(...results))} | ${fmt(Math.max(...results))} |`,
  );
  const likeForLike = id === 'spec-rate-host';
  if (likeForLike) likeForLikeRuns = results;
  if (likeForLike && mobyRuns.length) {
    console.log(
      `| moby 20.10 Go: InitSpec steps + json.Marshal (MkdirAll + DevicesFromPath each time) | ${fmt(median(mobyRuns))} | ${fmt(Math.min(...mobyRuns))} | ${fmt(Math.max(...mobyRuns))} |`,
    );
  }
  metrics.push({
    id,
    label: `plugin specs per second: ${name.split(' (')[0]}${likeForLike ? ' (dockerd column: moby 20.10 Go, same steps, same run)' : ''}`,
    unit: 'ops/s',
    berth: median(results),
    ...(likeForLike && mobyRuns.length ? { dockerd: median(mobyRuns) } : {}),
    lowerIsBetter: false,
    ...(likeForLike
      ? {
          goal: `≥ 1.0× moby, like-for-like${mobyRuns.length ? '' : ' (moby not measured: sudo bash scripts/setup.sh --bench)'}`,
        }
      : {}),
  });
}
if ('missing' in moby) console.log(`moby's Go: not measured (${moby.missing})`);
else {
  // Each berth run is paired with the moby run right after it: the median of those ratios shrugs off load spikes.
  const ratios = likeForLikeRuns.map((b, i) => b / (mobyRuns[i] ?? Number.NaN));
  console.log(
    `berth / moby like-for-like, median of ${ratios.length} paired runs: ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`,
  );
}
rmSync(execRoot, { recursive: true, force: true });
if (sink < 0) console.log(sink);
recordMetrics('spec-rate', metrics);
