import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerSpec } from '../../oci/index.ts';
import { preflightProblems } from './preflight.ts';

describe('preflightProblems()', () => {
  const facts = {
    boundingCapabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
    exists: (p: string) => p !== '/missing',
  };

  it('finds what runc would report cryptically', () => {
    const spec = containerSpec({
      rootfs: '/r',
      args: ['/p'],
      mounts: [
        { destination: '/a', type: 'bind', source: '/srv', options: ['rw'] },
        { destination: '/b', type: 'bind', source: '/missing', options: ['rbind'] },
      ],
    });
    const problems = preflightProblems(spec, facts, 'p:latest');
    assert.match(
      problems[0] ?? '',
      /^mount \/a: type "bind" needs "bind" or "rbind" in its options \(runc would fail with "no such device"\)$/,
    );
    assert.match(
      problems[1] ?? '',
      /^mount \/b: source \/missing does not exist on the host; create it or run "berth plugin set p:latest <mount>.source=\/host\/path"$/,
    );
    assert.match(
      problems[2] ?? '',
      /capabilities CAP_DAC_OVERRIDE, .* are outside this host's bounding set \(runc would fail with "unable to apply caps: operation not permitted"\)/,
    );
    assert.equal(problems.length, 3);
  });

  it('passes a spec the host can run', () => {
    const spec = containerSpec({ rootfs: '/r', args: ['/p'] });
    const caps = spec.process?.capabilities?.bounding ?? [];
    assert.deepEqual(preflightProblems(spec, { ...facts, boundingCapabilities: caps }, 'p'), []);
  });

  it('refuses a swap limit on a cgroup v1 host without swap accounting, and only there', () => {
    const spec = containerSpec({ rootfs: '/r', args: ['/p'] });
    const caps = spec.process?.capabilities?.bounding ?? [];
    spec.linux = { ...spec.linux, resources: { memory: { limit: 1 << 26, swap: 1 << 27 } } };
    const host = (files: string[]) => ({
      boundingCapabilities: caps,
      exists: (p: string) => files.includes(p),
    });
    const v1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    assert.match(
      preflightProblems(spec, host([v1]), 'p')[0] ?? '',
      /^memory-swap: this host's cgroup v1 has no swap accounting .*berth plugin update --memory-swap -1 p/,
    );
    assert.deepEqual(
      preflightProblems(spec, host([v1, '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes']), 'p'),
      [],
    );
    assert.deepEqual(preflightProblems(spec, host([]), 'p'), [], 'not a v1 memory host');
    spec.linux.resources = { memory: { limit: 1 << 26, swap: -1 } };
    assert.deepEqual(preflightProblems(spec, host([v1]), 'p'), [], 'unlimited swap needs no accounting');
  });
});
