import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskInfo } from '../containerd/index.ts';
import { leakedBundleOf, leakedShims, staleOutcomes, staleTasks } from './containerd-leaks.ts';

const task = (id: string): TaskInfo => ({ id, pid: 10, status: 'CREATED', exitStatus: 0 });

describe('staleTasks', () => {
  const cases: [string, string[], string[], string[], string[]][] = [
    ['every task has its record', ['a', 'b'], ['a', 'b'], [], []],
    ['a task without a record', ['a', 'b'], ['a'], [], ['b']],
    ['one a start of this berthd is working on is left alone', ['a', 'b'], ['a'], ['b'], []],
    ['a record without a task is not a stale task', ['a'], ['a', 'b'], [], []],
    ['no tasks', [], ['a'], [], []],
  ];
  for (const [what, tasks, records, busy, expected] of cases)
    it(what, () => {
      assert.deepEqual(
        staleTasks(tasks.map(task), new Set(records), new Set(busy)).map((t) => t.id),
        expected,
      );
    });
});

describe('leakedShims', () => {
  const proc = (pid: number, ppid: number, ...argv: string[]) => ({ pid, ppid, startTime: pid * 10, argv });
  const procs = [
    proc(
      10,
      1,
      '/usr/bin/containerd-shim-runc-v2',
      '-namespace',
      'berth',
      '-id',
      'known',
      '-address',
      '/c.sock',
    ),
    proc(11, 10, '/usr/bin/sleep', '100'),
    proc(
      20,
      1,
      '/usr/bin/containerd-shim-runc-v2',
      '-namespace',
      'berth',
      '-id',
      'lost',
      '-address',
      '/c.sock',
    ),
    proc(21, 20, 'runc', 'init'),
    proc(22, 21, '/bin/child'),
    proc(30, 1, '/usr/bin/containerd-shim-runc-v2', '-namespace', 'other', '-id', 'lost2'),
    proc(40, 1, '/usr/bin/node', '-namespace', 'berth', '-id', 'not-a-shim'),
    proc(50, 1, '/usr/bin/containerd-shim-runc-v2', '-namespace', 'berth'),
  ];
  it('finds the shims of the namespace no one knows, with what runs below them, deepest first', () => {
    assert.deepEqual(
      leakedShims(procs, 'berth', new Set(['known'])).map((s) => [s.id, s.pids.map((p) => p.pid)]),
      [['lost', [22, 21, 20]]],
    );
  });
  it('keeps every shim that is known', () => {
    assert.deepEqual(leakedShims(procs, 'berth', new Set(['known', 'lost'])), []);
  });
});

describe('leakedBundleOf', () => {
  const cases: [string, string, string | undefined][] = [
    [
      'failed to start shim: mkdir /run/containerd/io.containerd.runtime.v2.task/berth/abc: file exists',
      'abc',
      '/run/containerd/io.containerd.runtime.v2.task/berth/abc',
    ],
    [
      'containerd tasks.Create: failed to start shim: mkdir /tmp/a b/state/io.containerd.runtime.v2.task/berth/abc: file exists',
      'abc',
      '/tmp/a b/state/io.containerd.runtime.v2.task/berth/abc',
    ],
    ['failed to start shim: mkdir /run/x/berth/other: file exists', 'abc', undefined],
    ['failed to start shim: mkdir /run/x/elsewhere/abc: file exists', 'abc', undefined],
    ['task abc: already exists', 'abc', undefined],
    ['mkdir relative/berth/abc: file exists', 'abc', undefined],
  ];
  for (const [message, id, expected] of cases)
    it(`${expected ? 'names' : 'does not name'} a bundle in "${message.slice(0, 60)}…"`, () => {
      assert.equal(leakedBundleOf(message, 'berth', id), expected);
    });
});

describe('staleOutcomes', () => {
  it('reports the removed ids and the failures with their reason, and leaves out the ones left alone', () => {
    const stale = ['a', 'b', 'c'].map(task);
    const results: PromiseSettledResult<boolean>[] = [
      { status: 'fulfilled', value: true },
      { status: 'rejected', reason: new Error('containerd tasks.Kill: deadline exceeded') },
      { status: 'fulfilled', value: false },
    ];
    assert.deepEqual(staleOutcomes(stale, results), {
      tasks: ['a'],
      failed: [{ id: 'b', error: 'containerd tasks.Kill: deadline exceeded' }],
    });
  });
});
