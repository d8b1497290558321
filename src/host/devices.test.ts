import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { InvalidParameterError } from '../errdefs/index.ts';
import { devicesFromPath, splitDevNumber } from './index.ts';

const isRoot = process.getuid?.() === 0;

describe('splitDevNumber()', () => {
  const cases: [bigint, number, number][] = [
    [0x103n, 1, 3], // /dev/null
    [0xae5n, 10, 229], // /dev/fuse
    // Vectors from glibc's gnu_dev_makedev formula:
    [0x108001n, 128, 257], // minor above 255 spills into bits 20..
    [0x100000000102n, 4097, 2], // major above 4095 spills into bits 44..
    [0xffffffffn, 0xfff, 0xfffff], // every low field bit set
    [0xffffffffffffffffn, 0xffffffff, 0xffffffff], // both at 32 bits
  ];
  for (const [rdev, major, minor] of cases) {
    it(`splits 0x${rdev.toString(16)} into ${major}:${minor}`, () => {
      assert.deepEqual(splitDevNumber(rdev), { major, minor });
    });
  }
});

describe('devicesFromPath()', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(`${tmpdir()}/berth-devices-`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a char device: type, numbers, mode bits, owner', () => {
    const st = statSync('/dev/null');
    assert.deepEqual(devicesFromPath('/dev/null', '/dev/null'), [
      {
        path: '/dev/null',
        type: 'c',
        major: 1,
        minor: 3,
        fileMode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
      },
    ]);
  });

  it('puts the device at the container path', () => {
    const [dev] = devicesFromPath('/dev/zero', '/dev/myzero');
    assert.equal(dev?.path, '/dev/myzero');
    assert.deepEqual([dev?.major, dev?.minor], [1, 5]);
  });

  it('follows a symlink on the host but keeps the requested container path', () => {
    symlinkSync('/dev/null', `${dir}/link`);
    const [dev] = devicesFromPath(`${dir}/link`, `${dir}/link`);
    assert.equal(dev?.path, `${dir}/link`);
    assert.deepEqual([dev?.type, dev?.major, dev?.minor], ['c', 1, 3]);
  });

  it('walks a directory in byte order, recursing, re-rooting paths, skipping non-devices', {
    skip: !isRoot && 'needs root for mknod',
  }, () => {
    const tree = `${dir}/tree`;
    mkdirSync(`${tree}/sub/deeper`, { recursive: true });
    execFileSync('mknod', ['-m', '0640', `${tree}/b-block`, 'b', '7', '200']);
    execFileSync('mknod', [`${tree}/Z-upper`, 'c', '1', '7']);
    execFileSync('mknod', [`${tree}/sub/deeper/c-char`, 'c', '10', '229']);
    execFileSync('mkfifo', [`${tree}/sub/fifo`]);
    writeFileSync(`${tree}/a-regular-file`, 'x');
    symlinkSync('/dev/null', `${tree}/sub/a-symlink`);
    const devices = devicesFromPath(tree, '/dev/mine');
    assert.deepEqual(
      devices.map((d) => [d.path, d.type, d.major, d.minor]),
      [
        ['/dev/mine/Z-upper', 'c', 1, 7],
        ['/dev/mine/b-block', 'b', 7, 200],
        ['/dev/mine/sub/deeper/c-char', 'c', 10, 229],
        ['/dev/mine/sub/fifo', 'p', 0, 0],
      ],
    );
    assert.equal(devices[1]?.fileMode, 0o640);
  });

  it('reports a missing path with Docker’s message', () => {
    assert.throws(
      () => devicesFromPath('/dev/does-not-exist', '/dev/x'),
      (err: unknown) => {
        assert.ok(err instanceof InvalidParameterError);
        assert.equal(
          err.message,
          'error gathering device information while adding custom device "/dev/does-not-exist": no such file or directory',
        );
        return true;
      },
    );
  });

  it('reports a regular file or an empty directory as not a device node', () => {
    writeFileSync(`${dir}/file`, '');
    mkdirSync(`${dir}/empty`);
    for (const path of [`${dir}/file`, `${dir}/empty`]) {
      assert.throws(() => devicesFromPath(path, path), {
        message: `error gathering device information while adding custom device "${path}": not a device node`,
      });
    }
  });

  it('re-roots literally even when the container path contains "$&"', () => {
    const tree = `${dir}/dollar`;
    mkdirSync(tree);
    symlinkSync('/dev/null', `${tree}/ignored-link`);
    if (isRoot) execFileSync('mknod', [`${tree}/n`, 'c', '1', '3']);
    else return;
    const [dev] = devicesFromPath(tree, '/x/$&');
    assert.equal(dev?.path, '/x/$&/n');
  });
});
