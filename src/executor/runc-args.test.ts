import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deleteArgs,
  globalArgs,
  isRunOf,
  killArgs,
  listArgs,
  runArgs,
  stateArgs,
  withGlobals,
} from './runc-args.ts';

describe('runc argv builders', () => {
  const table: [string, string[], string[]][] = [
    ['global root', globalArgs({ root: '/run/berth/runtime-runc' }), ['--root', '/run/berth/runtime-runc']],
    ['global systemd', globalArgs({ root: '/r', systemdCgroup: true }), ['--root', '/r', '--systemd-cgroup']],
    ['run', runArgs('c1', { bundle: '/b' }), ['run', '--bundle', '/b', 'c1']],
    [
      'run no-pivot + pid file',
      runArgs('c1', { bundle: '/b d', noPivot: true, pidFile: '/p' }),
      ['run', '--bundle', '/b d', '--no-pivot', '--pid-file', '/p', 'c1'],
    ],
    ['kill', killArgs('c1', 'SIGTERM'), ['kill', 'c1', 'SIGTERM']],
    ['kill all', killArgs('c1', 'KILL', { all: true }), ['kill', '--all', 'c1', 'KILL']],
    ['delete', deleteArgs('c1'), ['delete', 'c1']],
    ['delete force', deleteArgs('c1', { force: true }), ['delete', '--force', 'c1']],
    ['state', stateArgs('c.1_x+y-z'), ['state', 'c.1_x+y-z']],
    ['list', listArgs(), ['list', '--format', 'json']],
    [
      'globals first',
      withGlobals({ binary: 'runc', globalArgs: ['--root', '/r'], noPivot: false }, ['state', 'c']),
      ['--root', '/r', 'state', 'c'],
    ],
  ];
  for (const [name, got, want] of table) it(name, () => assert.deepEqual(got, want));

  it('refuses ids a runtime would read as a flag or path', () => {
    for (const id of ['-rf', '', '../x', 'a/b', 'a b']) {
      assert.throws(() => stateArgs(id), /invalid container id/, id);
    }
  });

  it('tells a foreground run of a container through a runtime from anything else', () => {
    const cli = { binary: '/usr/sbin/runc', globalArgs: ['--root', '/r'], noPivot: false };
    const run = ['/usr/sbin/runc', ...withGlobals(cli, runArgs('c1', { bundle: '/b', keep: true }))];
    const table: [string, string[], boolean][] = [
      ['its run', run, true],
      ['another container', ['/usr/sbin/runc', '--root', '/r', 'run', '--bundle', '/b', 'c2'], false],
      ['another root', ['/usr/sbin/runc', '--root', '/other', 'run', '--bundle', '/b', 'c1'], false],
      ['another binary', ['runc', '--root', '/r', 'run', '--bundle', '/b', 'c1'], false],
      ['not a run', ['/usr/sbin/runc', '--root', '/r', 'delete', '--force', 'c1'], false],
      ['the run with no id', ['/usr/sbin/runc', '--root', '/r', 'run'], false],
    ];
    for (const [name, argv, want] of table) assert.equal(isRunOf(cli, 'c1', argv), want, name);
  });
});
