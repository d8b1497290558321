import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyValues, runRequest } from './run.ts';

describe('berth run flags', () => {
  it('become the POST /runs body', () => {
    assert.deepEqual(
      runRequest(['sh'], {
        rootfs: '/r',
        volume: ['v:/d'],
        volumeDriver: 'p',
        logDriver: 'l',
        logOpt: ['mode=non-blocking', 'tag=a=b'],
        label: ['team=ops', 'flag'],
      }),
      {
        rootfs: '/r',
        args: ['sh'],
        binds: ['v:/d'],
        volumeDriver: 'p',
        logDriver: 'l',
        logOpts: { mode: 'non-blocking', tag: 'a=b' },
        labels: { team: 'ops', flag: '' },
      },
    );
  });

  it('refuses a --log-opt without a value', () => {
    assert.throws(() => keyValues('--log-opt', ['mode'], true), /invalid --log-opt "mode": use KEY=VALUE/);
    assert.throws(() => keyValues('--label', ['=x'], false), /invalid --label "=x"/);
  });
});
