import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatValue,
  type Metric,
  markdownTable,
  ratio,
  replaceSummary,
  SUMMARY_END,
  SUMMARY_START,
  svgChart,
} from './report.ts';

const enable: Metric = {
  id: 'enable',
  label: 'plugin enable',
  unit: 'ms',
  berth: 120.64,
  runc: 94.8,
  dockerd: 716,
  goal: '≤ 1.25 × bare runc',
  lowerIsBetter: true,
};
const rps: Metric = {
  id: 'rps',
  label: 'GET /info',
  unit: 'req/s',
  berth: 11546,
  dockerd: 68,
  lowerIsBetter: false,
};

describe('bench report', () => {
  it('formats values with their unit', () => {
    assert.equal(formatValue(120.64, 'ms'), '120.6 ms');
    assert.equal(formatValue(716, 'ms'), '716 ms');
    assert.equal(formatValue(14.04, 's'), '14.04 s');
    assert.equal(formatValue(74089.2, 'ops/s'), '74,089 ops/s');
    assert.equal(formatValue(undefined, 'ms'), '');
  });

  it('states ratios so that "×" alone means berth is worse', () => {
    assert.equal(ratio(enable, 'runc'), '1.27× slower than runc');
    assert.equal(ratio(enable, 'dockerd'), '5.94× faster than dockerd');
    assert.equal(ratio(rps, 'dockerd'), '169.79× faster than dockerd');
    assert.equal(ratio(rps, 'runc'), '');
    assert.equal(ratio({ ...enable, bare: 'ctr' }, 'runc'), '1.27× slower than ctr');
  });

  it('renders a Markdown table with empty cells for what was not compared', () => {
    assert.deepEqual(markdownTable([enable, rps]).split('\n'), [
      '| case | berth | bare runc | dockerd 20.10 | berth vs | goal |',
      '|---|---:|---:|---:|---|---|',
      '| plugin enable | **120.6 ms** | 94.8 ms | 716 ms | 1.27× slower than runc; 5.94× faster than dockerd | ≤ 1.25 × bare runc |',
      '| GET /info | **11,546 req/s** |  | 68 req/s | 169.79× faster than dockerd |  |',
    ]);
  });

  it('draws one bar per compared figure, scaled to the largest, and skips metrics without a comparison', () => {
    const svg = svgChart([enable, rps, { ...rps, id: 'alone', label: 'alone', dockerd: undefined }]);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<\/title><\/rect>/g) ?? []).length, 5);
    assert.doesNotMatch(svg, />alone/);
    const widths = [...svg.matchAll(/<rect x="70" y="\d+" width="(\d+)" height="11"/g)].map((m) =>
      Number(m[1]),
    );
    assert.equal(Math.max(...widths.slice(0, 3)), 580); // dockerd's 716 ms is the longest bar of enable
  });

  it('replaces the generated summary and nothing else, or inserts it after the title', () => {
    const doc = `# Benchmarks\n\n${SUMMARY_START}\nold\n${SUMMARY_END}\n\n## Details\nkept\n`;
    assert.equal(
      replaceSummary(doc, 'new'),
      `# Benchmarks\n\n${SUMMARY_START}\nnew\n${SUMMARY_END}\n\n## Details\nkept\n`,
    );
    assert.equal(
      replaceSummary('# Benchmarks\n## Details\n', 'first'),
      `# Benchmarks\n\n${SUMMARY_START}\nfirst\n${SUMMARY_END}\n## Details\n`,
    );
  });
});
