import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EffectiveHealth } from '../model/index.ts';
import { type HealthClock, HealthMonitor } from './monitor.ts';
import type { ProbeResult } from './state.ts';

/** A clock that runs what falls due when told to move (enough for one monitor). */
class TestClock implements HealthClock {
  at = 0;
  timers: { at: number; fn: () => void }[] = [];
  readonly delays: number[] = [];
  now = () => this.at;
  schedule(ms: number, fn: () => void) {
    const t = { at: this.at + ms, fn };
    this.delays.push(ms);
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }
  /** Moves to the next timer and runs it. */
  async tick(): Promise<void> {
    const next = this.timers.sort((a, b) => a.at - b.at).shift();
    assert.ok(next, 'a probe is scheduled');
    this.at = next.at;
    next.fn();
    await new Promise((r) => setImmediate(r));
  }
}

const CONFIG: EffectiveHealth = {
  intervalMs: 1000,
  timeoutMs: 100,
  startPeriodMs: 0,
  retries: 2,
  disabled: false,
};
const result = (ExitCode: number): ProbeResult => ({
  Start: 's',
  End: 'e',
  ExitCode,
  Output: `code ${ExitCode}`,
});

function monitor(codes: number[], config = CONFIG) {
  const clock = new TestClock();
  const changes: string[] = [];
  const probes: string[] = [];
  let closed = 0;
  const m = new HealthMonitor(
    {
      clock,
      probe: async (path, timeoutMs) => {
        probes.push(`${path} ${timeoutMs}`);
        return result(codes.shift() ?? 0);
      },
      address: () => ({ path: '/p.sock', close: () => closed++ }),
      onChange: (s) => changes.push(`${s.Status}/${s.FailingStreak}`),
    },
    config,
  );
  return { m, clock, changes, probes, closed: () => closed };
}

describe('health monitor', () => {
  it('probes every interval after the previous probe ended, and reports status changes', async () => {
    const t = monitor([0, 1, 1, 0]);
    assert.equal(t.m.state.Status, 'starting');
    assert.deepEqual(t.clock.delays, [1000], 'the first probe waits one interval');
    for (let i = 0; i < 4; i++) await t.clock.tick();
    assert.deepEqual(t.changes, ['healthy/0', 'unhealthy/2', 'healthy/0']);
    assert.deepEqual(t.probes, Array(4).fill('/p.sock 100'));
    assert.equal(t.closed(), 4, 'every address is released');
    assert.equal(t.m.state.Log.length, 4);
  });

  it('takes new settings at once: the pending probe moves to the new interval, the state stays', async () => {
    const t = monitor([1]);
    await t.clock.tick();
    assert.equal(t.m.state.FailingStreak, 1);
    t.m.reconfigure({ ...CONFIG, intervalMs: 50, retries: 1, timeoutMs: 20 });
    assert.equal(t.clock.timers.length, 1);
    assert.equal(t.clock.timers[0]?.at, 1050);
    assert.equal(t.m.state.FailingStreak, 1, 'the state stays');
    await t.clock.tick();
    assert.deepEqual(t.probes.at(-1), '/p.sock 20');
  });

  it('stops: nothing scheduled, a probe under way is ignored', async () => {
    let release: (r: ProbeResult) => void = () => {};
    const clock = new TestClock();
    const changes: string[] = [];
    const m = new HealthMonitor(
      {
        clock,
        probe: () =>
          new Promise((r) => {
            release = r;
          }),
        address: () => ({ path: '/p', close: () => {} }),
        onChange: (s) => changes.push(s.Status),
      },
      CONFIG,
    );
    await clock.tick();
    m.stop();
    release(result(0));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(changes, []);
    assert.equal(clock.timers.length, 0);
  });

  it('counts a probe that cannot even start (socket path too long) as a failure', async () => {
    const clock = new TestClock();
    const m = new HealthMonitor(
      {
        clock,
        probe: async () => result(0),
        address: () => {
          throw new Error('socket name x is too long for a unix socket path');
        },
        onChange: () => {},
      },
      { ...CONFIG, retries: 1 },
    );
    await clock.tick();
    assert.equal(m.state.Status, 'unhealthy');
    assert.match(m.state.Log[0]?.Output ?? '', /^cannot probe: socket name x is too long/);
  });
});
