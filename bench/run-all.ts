/**
 * Runs every benchmark (spec rate, runtime reload, plugin lifecycle against bare runc and the reference dockerd,
 * API load), prints one table, writes bench/results/latest.json and docs/benchmarks.svg, and rewrites the summary
 * section of BENCHMARKS.md with the command, the machine and the figures.
 *
 *   npm run bench:all              (≥ 10 runs each: 11 runs, 100 plugins, 1000 runtimes, 11 rounds of 2 s of load)
 *   npm run bench:all -- --quick   (a smoke run: 3 runs, 20 plugins, 200 runtimes, 3 rounds of 1 s; BENCHMARKS.md untouched)
 *   npm run bench:all -- --render  (no run: rewrite the summary and chart from bench/results/latest.json)
 *   npm run bench:all -- --keep-dir DIR [--reuse soak]
 *       (each bench's JSON is kept in DIR; a bench named in --reuse is not run again, its JSON in DIR is used:
 *       for a long bench run on its own, e.g. BERTH_BENCH_OUT=DIR node --import tsx bench/soak.ts)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Metric, markdownTable, replaceSummary, svgChart } from './report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    'keep-dir': { type: 'string' },
    reuse: { type: 'string', multiple: true, default: [] },
  },
});
const ROOT = new URL('../', import.meta.url).pathname;
const quick = values.quick;
const BENCHES: [string, string[]][] = [
  ['spec-rate', quick ? ['--runs', '3'] : ['--runs', '11']],
  ['runtime-reload', quick ? ['--runs', '3', '--count', '200'] : ['--runs', '11', '--count', '1000']],
  ['plugin-lifecycle', quick ? ['--runs', '3', '--many', '20'] : ['--runs', '11', '--many', '100']],
  ['containerd', quick ? ['--runs', '3', '--many', '20'] : ['--runs', '11', '--many', '100']],
  [
    'api-load',
    quick
      ? ['--seconds', '1', '--rounds', '3', '--many', '20']
      : ['--seconds', '2', '--rounds', '11', '--floor'],
  ],
  [
    'soak',
    quick ? ['--cycles', '200', '--requests', '10000'] : ['--cycles', '10000', '--requests', '100000'],
  ],
  ['bulk', quick ? ['--mib', '50', '--runs', '1'] : ['--mib', '200', '--runs', '3']],
];

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '?';
  } catch {
    return 'not installed';
  }
}

function machine(): string {
  const cpu = cpus();
  return [
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}`,
    `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    `Linux ${release()}`,
    `Node ${process.version}`,
    version('runc', ['--version']),
  ].join(', ');
}

/** Runs every bench and returns their metrics in order. */
function runAll(): Metric[] {
  const keep = values['keep-dir'];
  const out = keep ?? mkdtempSync(join(tmpdir(), 'berth-bench-all-'));
  mkdirSync(out, { recursive: true });
  const metrics: Metric[] = [];
  try {
    for (const [bench, args] of BENCHES) {
      if (values.reuse.includes(bench)) {
        console.log(`\n== ${bench}: reused from ${out}/${bench}.json (run on its own)`);
        metrics.push(...(JSON.parse(readFileSync(join(out, `${bench}.json`), 'utf8')) as Metric[]));
        continue;
      }
      // The previous bench's files written back now, not during this one's measurements: without it an enable's
      // bundle write waited 2.6–2.9 ms for the disk after the spec and runtime benches, 0.43 ms with it.
      spawnSync('sync');
      console.log(`\n== ${bench} ${args.join(' ')}`);
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench', `${bench}.ts`), ...args],
        {
          stdio: 'inherit',
          env: { ...process.env, BERTH_BENCH_OUT: out },
        },
      );
      if (r.status !== 0) throw new Error(`bench ${bench} failed (exit ${r.status})`);
      metrics.push(...(JSON.parse(readFileSync(join(out, `${bench}.json`), 'utf8')) as Metric[]));
    }
  } finally {
    if (!keep) rmSync(out, { recursive: true, force: true });
  }
  return metrics;
}

/** Writes bench/results/latest.json, docs/benchmarks.svg and the summary of BENCHMARKS.md. */
function writeOutputs(date: string, host: string, metrics: readonly Metric[]): void {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/latest.json'),
    `${JSON.stringify({ date, machine: host, metrics }, null, 2)}\n`,
  );
  writeFileSync(join(ROOT, 'docs/benchmarks.svg'), svgChart(metrics));
  const summary = [
    '## Summary',
    '',
    `Command: \`npm run bench:all\` (runs the benchmarks below with ≥ 10 runs each and medians), on ${date}.`,
    `Machine: ${host}. dockerd: the reference dockerd 20.10 (\`../shared/tools/reference-dockerd\`), measured in the same run.`,
    '',
    markdownTable(metrics),
    '',
    '![berth vs bare runc vs dockerd](docs/benchmarks.svg)',
    '',
    'Raw figures: `bench/results/latest.json`. What each case measures, and why the figures are what they are: the',
    'sections below and [docs/benchmarks.md](docs/benchmarks.md).',
  ].join('\n');
  const path = join(ROOT, 'BENCHMARKS.md');
  writeFileSync(path, replaceSummary(readFileSync(path, 'utf8'), summary));
  console.log('\nwrote BENCHMARKS.md (summary), docs/benchmarks.svg, bench/results/latest.json');
}

if (values.render) {
  const saved = JSON.parse(readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8')) as {
    date: string;
    machine: string;
    metrics: Metric[];
  };
  writeOutputs(saved.date, saved.machine, saved.metrics);
} else {
  const metrics = runAll();
  console.log(`\n${markdownTable(metrics)}`);
  if (quick)
    console.log('\n--quick: BENCHMARKS.md, docs/benchmarks.svg and bench/results/ left as they were');
  else writeOutputs(new Date().toISOString().slice(0, 10), machine(), metrics);
}
