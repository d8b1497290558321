import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeDaemonConfig } from './config.ts';
import { runLogInfo } from './run-logging.ts';

describe('runLogInfo()', () => {
  it("fills dockerd's logger.Info for a run: every field present, image fields empty", () => {
    const info = runLogInfo(
      'berth-run-0123456789abcdef',
      { rootfs: '/r', args: ['sh', '-c', 'echo'], env: ['A=1'], labels: { team: 'ops' } },
      { tag: 't' },
      new Date('2026-12-01T00:00:00Z'),
    );
    assert.deepEqual(info, {
      Config: { tag: 't' },
      ContainerID: 'berth-run-0123456789abcdef',
      ContainerName: '/berth-run-0123456789abcdef',
      ContainerEntrypoint: 'sh',
      ContainerArgs: ['-c', 'echo'],
      ContainerImageID: '',
      ContainerImageName: '',
      ContainerCreated: '2026-12-01T00:00:00.000Z',
      ContainerEnv: ['A=1'],
      ContainerLabels: { team: 'ops' },
      LogPath: '',
      DaemonName: 'docker',
    });
  });
});

describe('daemon.json log-driver and log-opts', () => {
  it('are read, and default to no driver', () => {
    assert.equal(mergeDaemonConfig({}, {}).logDriver, undefined);
    const c = mergeDaemonConfig({}, { 'log-driver': 'example/log', 'log-opts': { mode: 'non-blocking' } });
    assert.equal(c.logDriver, 'example/log');
    assert.deepEqual(c.logOpts, { mode: 'non-blocking' });
  });

  it('name bad values', () => {
    assert.throws(
      () => mergeDaemonConfig({}, { 'log-opts': { 'max-buffer-size': 1 } }),
      /log-opts must be an object of string values/,
    );
    assert.throws(
      () => mergeDaemonConfig({}, { 'log-opts': { mode: 'fast' } }),
      /log-opts: logger: logging mode not supported: fast/,
    );
    assert.throws(() => mergeDaemonConfig({}, { 'log-driver': '' }), /log-driver must be a non-empty string/);
  });
});
