import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconfigureQuery, resourcesFromFlags } from './plugin-update-flags.ts';

describe('berth plugin update flags', () => {
  it('become Docker-named fields, only those given', () => {
    assert.deepEqual(
      resourcesFromFlags({
        memory: '256m',
        memorySwap: '-1',
        cpus: '0.5',
        cpuShares: '512',
        pidsLimit: '200',
      }),
      { Memory: 256 * 2 ** 20, MemorySwap: -1, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 200 },
    );
    assert.deepEqual(resourcesFromFlags({ pidsLimit: '-1' }), { PidsLimit: -1 });
    assert.deepEqual(resourcesFromFlags({}), {});
  });
  it('name the flag of a bad value', () => {
    assert.throws(() => resourcesFromFlags({ memory: 'lots' }), /--memory: invalid size "lots"/);
    assert.throws(() => resourcesFromFlags({ memorySwap: '1q' }), /--memory-swap: .*or -1 for unlimited/);
    assert.throws(() => resourcesFromFlags({ cpus: 'half' }), /--cpus: invalid number of CPUs/);
  });
  it('restart and force go in the query', () => {
    assert.equal(reconfigureQuery({}), '');
    assert.equal(reconfigureQuery({ restart: true, force: true }), '?restart=1&force=1');
  });
});
