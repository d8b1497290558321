import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'berth-phase-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('phase trace', () => {
  it('writes one line per operation: its phases, total and start time on the epoch clock', async () => {
    const file = join(dir, 'phases.jsonl');
    process.env.BERTHD_TRACE_PHASES = file; // read once, when the module loads
    const { traceBegin, traceEnd, traceMark } = await import(`./phase-trace.ts?trace=${Date.now()}`);
    delete process.env.BERTHD_TRACE_PHASES;
    const before = Date.now();
    traceBegin('enable', 'abc');
    traceMark('abc', 'spec');
    traceMark('other', 'ignored'); // nothing is being timed for it
    traceMark('abc', 'socket');
    traceEnd('abc');
    traceEnd('abc'); // ended already: nothing more written
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const r = JSON.parse(lines[0] ?? '');
    assert.equal(r.op, 'enable');
    assert.equal(r.key, 'abc');
    assert.deepEqual(
      r.phases.map((p: [string, number]) => p[0]),
      ['spec', 'socket'],
    );
    assert.ok(r.total >= r.phases[1][1]);
    assert.ok(r.at >= before - 1 && r.at <= Date.now() + 1, `at ${r.at} is not between ${before} and now`);
  });
});
