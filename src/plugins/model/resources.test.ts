import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyResources,
  ociResources,
  parseCpus,
  parseInteger,
  parseSize,
  resourceProblem,
} from './resources.ts';
import { decodePluginUpdate } from './update.ts';

const MiB = 1024 * 1024;

describe('parseSize', () => {
  const cases: [string, number][] = [
    ['256m', 256 * MiB],
    ['256M', 256 * MiB],
    ['256mb', 256 * MiB],
    ['256MiB', 256 * MiB],
    ['1g', 1024 * MiB],
    ['1.5g', 1536 * MiB],
    ['512k', 512 * 1024],
    ['100', 100],
    ['100b', 100],
    ['2t', 2 * 1024 ** 4],
  ];
  for (const [text, bytes] of cases)
    it(`${text} → ${bytes}`, () => assert.equal(parseSize('--memory', text), bytes));
  for (const bad of ['', 'm', '-1', '1x', '1.2.3m', '12 mm', '0x10']) {
    it(`refuses "${bad}", naming the flag`, () =>
      assert.throws(
        () => parseSize('--memory', bad),
        /^InvalidParameterError: --memory: invalid size .*256m, 1g/,
      ));
  }
  it('takes -1 where unlimited is allowed', () =>
    assert.equal(parseSize('--memory-swap', '-1', { allowUnlimited: true }), -1));
});

describe('parseCpus and parseInteger', () => {
  const cases: [string, number][] = [
    ['0.5', 500_000_000],
    ['2', 2_000_000_000],
    ['1.25', 1_250_000_000],
    ['0.000000001', 1],
  ];
  for (const [text, nano] of cases)
    it(`--cpus ${text} → ${nano}`, () => assert.equal(parseCpus('--cpus', text), nano));
  for (const bad of ['', '.5', '-1', '1e3', '0.0000000001', 'half']) {
    it(`refuses --cpus "${bad}"`, () =>
      assert.throws(() => parseCpus('--cpus', bad), /--cpus: invalid number of CPUs/));
  }
  it('integers', () => {
    assert.equal(parseInteger('--pids-limit', '-1'), -1);
    assert.throws(() => parseInteger('--pids-limit', '2.5'), /--pids-limit: "2.5" is not an integer/);
  });
});

describe('applyResources', () => {
  it('sets, keeps what is absent, and removes with 0 (PidsLimit also with -1)', () => {
    const cur = { Memory: 64 * MiB, PidsLimit: 100, CpuShares: 512 };
    assert.deepEqual(applyResources(cur, { NanoCpus: 5e8 }), { ...cur, NanoCpus: 5e8 });
    assert.deepEqual(applyResources(cur, { Memory: 0, PidsLimit: -1 }), { CpuShares: 512 });
    assert.deepEqual(cur, { Memory: 64 * MiB, PidsLimit: 100, CpuShares: 512 }, 'input untouched');
  });
  const refused: [string, object, RegExp][] = [
    [
      'memory below the minimum',
      { Memory: 4 * MiB },
      /Resources.Memory: minimum memory limit allowed is 6MB/,
    ],
    [
      'swap below memory',
      { Memory: 64 * MiB, MemorySwap: 32 * MiB },
      /Resources.MemorySwap: minimum memoryswap limit should be larger than memory limit/,
    ],
    ['swap without memory', { MemorySwap: 64 * MiB }, /always set the Memory limit/],
    ['too few cpus', { NanoCpus: 1000 }, /Resources.NanoCpus: range of CPUs is from 0.01/],
    ['more cpus than the host', { NanoCpus: 4e9 }, /as there are only 2 CPUs available/],
    ['cpu shares out of range', { CpuShares: 1 }, /Resources.CpuShares: must be between 2 and 262144/],
    ['negative pids', { PidsLimit: -5 }, /Resources.PidsLimit: must be a positive number/],
  ];
  for (const [what, change, message] of refused) {
    it(`refuses ${what}`, () => assert.throws(() => applyResources({}, change, { cpus: 2 }), message));
  }
  it('accepts unlimited swap, and swap removed while memory stays', () => {
    assert.equal(resourceProblem({ Memory: 64 * MiB, MemorySwap: -1 }), undefined);
    assert.deepEqual(applyResources({ Memory: 64 * MiB, MemorySwap: 128 * MiB }, { MemorySwap: 0 }), {
      Memory: 64 * MiB,
    });
  });
  it('refuses removing memory while swap stays', () =>
    assert.throws(
      () => applyResources({ Memory: 64 * MiB, MemorySwap: 128 * MiB }, { Memory: 0 }),
      /always set the Memory/,
    ));
});

describe('ociResources', () => {
  const cases: [string, object, object][] = [
    ['nothing', {}, {}],
    [
      'memory alone swaps as much again (Docker)',
      { Memory: 64 * MiB },
      { memory: { limit: 64 * MiB, swap: 128 * MiB } },
    ],
    [
      'memory and swap',
      { Memory: 64 * MiB, MemorySwap: 64 * MiB },
      { memory: { limit: 64 * MiB, swap: 64 * MiB } },
    ],
    ['unlimited swap', { Memory: 64 * MiB, MemorySwap: -1 }, { memory: { limit: 64 * MiB, swap: -1 } }],
    ['cpus → quota over 100 ms', { NanoCpus: 5e8 }, { cpu: { quota: 50_000, period: 100_000 } }],
    [
      'shares and cpus',
      { CpuShares: 512, NanoCpus: 1.5e9 },
      { cpu: { shares: 512, quota: 150_000, period: 100_000 } },
    ],
    ['pids', { PidsLimit: 200 }, { pids: { limit: 200 } }],
  ];
  for (const [what, r, spec] of cases) it(what, () => assert.deepEqual(ociResources(r), spec));
});

describe('decodePluginUpdate', () => {
  it('folds keys as Go does and reports unknown ones', () => {
    const u = decodePluginUpdate({ resources: { memory: 64 * MiB, PIDSLIMIT: 5, Bogus: 1 }, Other: {} });
    assert.deepEqual(u.resources, { Memory: 64 * MiB, PidsLimit: 5 });
    assert.deepEqual(u.warnings, [
      'body.Resources.Bogus: unknown key ignored',
      'body.Other: unknown key ignored',
    ]);
  });
  it('an empty body changes nothing; a bad type names the field', () => {
    assert.deepEqual(decodePluginUpdate(undefined), { warnings: [] });
    assert.throws(
      () => decodePluginUpdate({ Resources: { Memory: '1g' } }),
      /body.Resources.Memory must be integer/,
    );
    assert.throws(() => decodePluginUpdate([]), /body must be object/);
  });
});
