import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oomCounterFile, parseOomKills, stateRoot } from './oom.ts';

describe('parseOomKills', () => {
  const cases: [string, string, number | undefined][] = [
    ['cgroup v1 memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n', 1],
    ['cgroup v1 before any kill', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n', 0],
    ['cgroup v1 of an old kernel (no counter)', 'oom_kill_disable 0\nunder_oom 0\n', undefined],
    ['cgroup v2 memory.events', 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n', 2],
    ['cgroup v2 without kills (oom alone is not a kill)', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n', 0],
    ['empty', '', undefined],
  ];
  for (const [what, text, kills] of cases) it(what, () => assert.equal(parseOomKills(text), kills));
});

describe('oomCounterFile', () => {
  it('prefers the v1 memory hierarchy on a hybrid host', () =>
    assert.equal(
      oomCounterFile({
        cgroup_paths: { '': '/sys/fs/cgroup/unified/x', memory: '/sys/fs/cgroup/memory/a/x' },
      }),
      '/sys/fs/cgroup/memory/a/x/memory.oom_control',
    ));
  it('uses memory.events on cgroup v2', () =>
    assert.equal(
      oomCounterFile({ cgroup_paths: { '': '/sys/fs/cgroup/x' } }),
      '/sys/fs/cgroup/x/memory.events',
    ));
  it('gives no file for a state without cgroups', () => {
    assert.equal(oomCounterFile({}), undefined);
    assert.equal(oomCounterFile(null), undefined);
  });
  it('finds --root in global flags', () => {
    assert.equal(stateRoot(['--root', '/r', '--systemd-cgroup']), '/r');
    assert.equal(stateRoot([]), undefined);
  });
});
