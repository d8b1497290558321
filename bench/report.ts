/**
 * Benchmark results: each bench records metrics (berth's figure and, measured in the same run, bare runc's and
 * the reference dockerd's); `bench/run-all.ts` collects them into a table, an SVG chart and the summary section of
 * BENCHMARKS.md. The rendering functions are pure (tested in report.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Unit = 'ms' | 's' | 'ops/s' | 'req/s' | 'MiB' | 'MiB/s' | 'fds';

export interface Metric {
  readonly id: string;
  readonly label: string;
  readonly unit: Unit;
  readonly berth: number;
  readonly runc?: number | undefined;
  /** What the bare column ran when it was not runc itself (e.g. "ctr"), for the ratio's words. */
  readonly bare?: string;
  readonly dockerd?: number | undefined;
  /** What the project aims for, e.g. "≤ 200 ms" or "≤ 1.25 × runc". */
  readonly goal?: string;
  /** Whether a smaller figure is better (latency, memory). */
  readonly lowerIsBetter: boolean;
}

/** Where a bench run by run-all.ts writes its metrics (`BERTH_BENCH_OUT`); nothing when run alone. */
export function recordMetrics(bench: string, metrics: readonly Metric[]): void {
  const dir = process.env.BERTH_BENCH_OUT;
  if (dir) writeFileSync(join(dir, `${bench}.json`), `${JSON.stringify(metrics, null, 2)}\n`);
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined) return '';
  const digits = unit === 'ms' ? 1 : unit === 's' ? 2 : 0;
  const min = unit === 's' ? 2 : 0;
  return `${new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: min }).format(value)} ${unit}`;
}

/**
 * berth relative to another figure, in words: "1.27× slower than runc", "5.94× faster than dockerd", "1.4× less
 * memory than dockerd". A bare "1.28× dockerd" read as a win when berth was the slower one.
 */
export function ratio(m: Metric, other: 'runc' | 'dockerd'): string {
  const o = m[other];
  if (o === undefined || o === 0 || m.berth === 0) return '';
  const worse = m.lowerIsBetter ? m.berth / o : o / m.berth; // > 1: berth is worse
  const name = other === 'runc' ? (m.bare ?? 'runc') : other;
  if (NUMBER.format(worse) === '1') return `as ${name}`;
  const [better, poorer] = m.unit === 'MiB' ? ['less memory', 'more memory'] : ['faster', 'slower'];
  return worse < 1
    ? `${NUMBER.format(1 / worse)}× ${better} than ${name}`
    : `${NUMBER.format(worse)}× ${poorer} than ${name}`;
}

/** The summary table in Markdown. */
export function markdownTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) =>
    [
      m.label,
      `**${formatValue(m.berth, m.unit)}**`,
      formatValue(m.runc, m.unit),
      formatValue(m.dockerd, m.unit),
      [ratio(m, 'runc'), ratio(m, 'dockerd')].filter(Boolean).join('; '),
      m.goal ?? '',
    ].join(' | '),
  );
  return [
    '| case | berth | bare runc | dockerd 20.10 | berth vs | goal |',
    '|---|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A small horizontal bar chart of the metrics that have a comparison: per metric a title line, then one bar each
 * for berth, bare runc and dockerd, scaled to the largest of them and labelled with its value.
 */
export function svgChart(metrics: readonly Metric[]): string {
  const compared = metrics.filter((m) => m.runc !== undefined || m.dockerd !== undefined);
  const width = 760;
  const barX = 70;
  const barMax = width - barX - 110;
  const rowHeight = 14;
  const series = [
    ['berth', '#2f6fdf'],
    ['runc', '#8c8c8c'],
    ['dockerd', '#e07b39'],
  ] as const;
  let y = 4;
  const parts: string[] = [];
  for (const m of compared) {
    const values = series.map(([key]) => (key === 'berth' ? m.berth : m[key]));
    const max = Math.max(...values.filter((v): v is number => v !== undefined));
    parts.push(
      `<text x="0" y="${y + 12}" font-size="12" font-weight="bold">${escapeXml(m.label)} (${m.lowerIsBetter ? 'lower' : 'higher'} is better)</text>`,
    );
    y += 18;
    series.forEach(([key, color], i) => {
      const v = values[i];
      if (v === undefined) return;
      const w = Math.max(1, Math.round((v / max) * barMax));
      const shown = escapeXml(formatValue(v, m.unit));
      parts.push(
        `<text x="0" y="${y + rowHeight - 4}" font-size="11">${key}</text>`,
        `<rect x="${barX}" y="${y}" width="${w}" height="${rowHeight - 3}" fill="${color}"><title>${key}: ${shown}</title></rect>`,
        `<text x="${barX + w + 4}" y="${y + rowHeight - 4}" font-size="10">${shown}</text>`,
      );
      y += rowHeight;
    });
    y += 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    '<title>berth benchmarks: berth vs bare runc vs dockerd, measured in one run</title>',
    '<rect width="100%" height="100%" fill="white"/>',
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export const SUMMARY_START = '<!-- bench:summary:start (written by npm run bench:all) -->';
export const SUMMARY_END = '<!-- bench:summary:end -->';

/** Replaces (or inserts after the title) the generated summary section of BENCHMARKS.md. */
export function replaceSummary(markdown: string, summary: string): string {
  const block = `${SUMMARY_START}\n${summary.trim()}\n${SUMMARY_END}`;
  const start = markdown.indexOf(SUMMARY_START);
  const end = markdown.indexOf(SUMMARY_END);
  if (start >= 0 && end > start)
    return markdown.slice(0, start) + block + markdown.slice(end + SUMMARY_END.length);
  const titleEnd = markdown.indexOf('\n') + 1;
  return `${markdown.slice(0, titleEnd)}\n${block}\n${markdown.slice(titleEnd)}`;
}
