import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tuningFromEnv } from './tuning.ts';

describe('tuning from the environment', () => {
  it('has defaults that answer before the docker CLI gives up', () => {
    assert.deepEqual(tuningFromEnv({}), {
      bodyIdleTimeoutMs: 60_000,
      activateTimeoutMs: 2_000,
      volumeListTimeoutMs: 5_000,
      volumeAnswerTimeoutMs: 25_000,
      startupHoldTimeoutMs: 20_000,
    });
  });

  it('reads positive integers of milliseconds and names a bad variable', () => {
    assert.equal(tuningFromEnv({ BERTHD_BODY_IDLE_TIMEOUT_MS: '700' }).bodyIdleTimeoutMs, 700);
    for (const bad of ['0', '-1', '1.5', '5s', ' 5'])
      assert.throws(
        () => tuningFromEnv({ BERTHD_VOLUME_LIST_TIMEOUT_MS: bad }),
        new RegExp(
          `BERTHD_VOLUME_LIST_TIMEOUT_MS must be a positive integer of milliseconds, got "${bad.replace('.', '\\.')}"`,
        ),
      );
  });
});
