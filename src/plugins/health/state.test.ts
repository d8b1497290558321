import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterProbe, type HealthState, initialHealth, MAX_LOG_ENTRIES, type ProbeResult } from './state.ts';

const probe = (ExitCode: number, n = 0): ProbeResult => ({
  Start: `2026-01-01T00:00:0${n}Z`,
  End: `2026-01-01T00:00:0${n}Z`,
  ExitCode,
  Output: ExitCode === 0 ? 'ok' : 'failed',
});

/** Runs exit codes through the machine from `starting`; the status and streak after each, and the changes. */
function run(codes: readonly number[], retries = 3, startPeriodProbes = 0): string[] {
  let state: HealthState = initialHealth();
  return codes.map((code, i) => {
    const next = afterProbe(state, probe(code, i), { retries, inStartPeriod: i < startPeriodProbes });
    state = next.state;
    return `${state.Status}/${state.FailingStreak}${next.changed ? '!' : ''}`;
  });
}

describe('health state machine (Docker semantics)', () => {
  const table: [string, number[], number, number, string[]][] = [
    ['a pass makes it healthy', [0], 3, 0, ['healthy/0!']],
    ['failures below retries stay starting', [1, 1], 3, 0, ['starting/1', 'starting/2']],
    ['retries failures make it unhealthy', [1, 1, 1], 3, 0, ['starting/1', 'starting/2', 'unhealthy/3!']],
    ['a timeout (-1) counts as a failure', [-1], 1, 0, ['unhealthy/1!']],
    [
      'healthy → unhealthy after retries consecutive failures only',
      [0, 1, 1, 0, 1, 1, 1],
      3,
      0,
      ['healthy/0!', 'healthy/1', 'healthy/2', 'healthy/0', 'healthy/1', 'healthy/2', 'unhealthy/3!'],
    ],
    ['unhealthy → healthy on one pass', [1, 0], 1, 0, ['unhealthy/1!', 'healthy/0!']],
    [
      'the streak goes on counting while unhealthy',
      [1, 1, 1],
      1,
      0,
      ['unhealthy/1!', 'unhealthy/2', 'unhealthy/3'],
    ],
    [
      'failures in the start period do not count while starting',
      [1, 1, 1, 1],
      2,
      2,
      ['starting/0', 'starting/0', 'starting/1', 'unhealthy/2!'],
    ],
    [
      'a pass in the start period ends starting',
      [1, 0, 1],
      1,
      3,
      ['starting/0', 'healthy/0!', 'unhealthy/1!'],
    ],
  ];
  for (const [what, codes, retries, startPeriod, want] of table) {
    it(what, () => assert.deepEqual(run(codes, retries, startPeriod), want));
  }

  it(`keeps the last ${MAX_LOG_ENTRIES} probe results, oldest first`, () => {
    let state = initialHealth();
    for (let i = 0; i < 8; i++)
      state = afterProbe(state, probe(0, i), { retries: 3, inStartPeriod: false }).state;
    assert.equal(state.Log.length, MAX_LOG_ENTRIES);
    assert.deepEqual(
      state.Log.map((r) => r.Start),
      [3, 4, 5, 6, 7].map((n) => `2026-01-01T00:00:0${n}Z`),
    );
  });
});
