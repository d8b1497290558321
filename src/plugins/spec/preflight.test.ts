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
});
