import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyHealthUpdate,
  DEFAULT_HEALTH,
  decodeHealthUpdate,
  decodeStoredHealth,
  effectiveHealth,
  healthConfigView,
} from './health-config.ts';

const S = 1e9;

describe('health config decoding', () => {
  it('matches keys as Go does and warns about unknown ones', () => {
    const { update, warnings } = decodeHealthUpdate({
      interval: 10 * S,
      TIMEOUT: 2 * S,
      Retries: 4,
      Disable: false,
      Intervall: 1,
    });
    assert.deepEqual(update, { Interval: 10 * S, Timeout: 2 * S, Retries: 4, Disable: false });
    assert.deepEqual(warnings, ['Health.Intervall: unknown key ignored (did you mean "Interval"?)']);
  });

  it('takes null and an absent body as no change', () => {
    assert.deepEqual(decodeHealthUpdate(null), { update: {}, warnings: [] });
    assert.deepEqual(decodeHealthUpdate(undefined), { update: {}, warnings: [] });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a string duration',
      { Interval: '10s' },
      /^Health.Interval must be an integer of nanoseconds \(e.g. 10000000000 for 10s\), got "10s"$/,
    ],
    ['a fraction', { Timeout: 1.5 }, /^Health.Timeout must be an integer of nanoseconds/],
    [
      'a negative interval',
      { Interval: -1 },
      /^Health.Interval cannot be less than 1ms \(1000000\): got -1; use 0 for the default \(30s\)$/,
    ],
    ['under 1ms', { Timeout: 999_999 }, /^Health.Timeout cannot be less than 1ms .*default \(5s\)$/],
    [
      'negative retries',
      { Retries: -1 },
      /^Health.Retries must be a non-negative integer, got -1; use 0 for the default \(3\)$/,
    ],
    ['a string Disable', { Disable: 'yes' }, /^Health.Disable must be true or false, got "yes"$/],
    ['an array', [1], /^Health must be an object such as/],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what} naming the field and the fix`, () => {
      assert.throws(
        () => decodeHealthUpdate(raw),
        (err: Error) => err.name === 'InvalidParameterError' && message.test(err.message),
      );
    });
  }

  it('accepts a timeout longer than the interval (probes never overlap)', () => {
    assert.deepEqual(decodeHealthUpdate({ Interval: S, Timeout: 5 * S }).update, {
      Interval: S,
      Timeout: 5 * S,
    });
  });
});

describe('health config updates and effective settings', () => {
  it('keeps what an update does not name; 0 and false drop back to the defaults', () => {
    const set = applyHealthUpdate(undefined, { Interval: 10 * S, Retries: 5, Disable: true });
    assert.deepEqual(set, { Interval: 10 * S, Retries: 5, Disable: true });
    assert.deepEqual(applyHealthUpdate(set, { Timeout: S }), {
      Interval: 10 * S,
      Retries: 5,
      Disable: true,
      Timeout: S,
    });
    assert.deepEqual(applyHealthUpdate(set, { Interval: 0, Disable: false }), { Retries: 5 });
  });

  it("uses Docker's defaults for everything not set", () => {
    assert.deepEqual(effectiveHealth(undefined), DEFAULT_HEALTH);
    assert.deepEqual(effectiveHealth({ Interval: 200_000_000, Timeout: 100_000_000, Retries: 1 }), {
      intervalMs: 200,
      timeoutMs: 100,
      startPeriodMs: 0,
      retries: 1,
      disabled: false,
    });
    assert.deepEqual(healthConfigView(undefined), {
      Interval: 30 * S,
      Timeout: 5 * S,
      StartPeriod: 0,
      Retries: 3,
      Disable: false,
    });
  });

  it('reads a state file without health settings as the defaults, and refuses a bad one naming it', () => {
    assert.equal(decodeStoredHealth(undefined, 'state.health'), undefined);
    assert.deepEqual(decodeStoredHealth({ Interval: S, Disable: false }, 'state.health'), { Interval: S });
    assert.throws(
      () => decodeStoredHealth({ Retries: -2 }, 'state.health'),
      /state.health.Retries must be a non-negative integer/,
    );
  });
});
