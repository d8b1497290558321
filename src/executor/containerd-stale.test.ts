import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskInfo } from '../containerd/index.ts';
import { staleTasks } from './containerd-stale.ts';

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
