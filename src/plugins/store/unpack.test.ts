import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { manyEntriesTar } from '../../../bench/fixtures/many-entries.ts';
import { type Entry, tarball } from '../../../test/fixtures/tarball.ts';
import { extractLayer, startsCompressed, unpackTar } from './unpack.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-unpack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: Entry = { path: 'config.json', body: '{"Entrypoint":["/p"]}' };
const ROOTFS_FILE: Entry = { path: 'rootfs/p', body: 'binary' };
let n = 0;
const fresh = () => join(dir, `case-${n++}`);
/** Unpacks into a fresh dir with a sentinel beside it that nothing may touch. */
async function unpack(entries: readonly Entry[], gzip = false) {
  const root = fresh();
  const staging = join(root, 'staging');
  mkdirSync(join(root, 'outside'), { recursive: true });
  const data = tarball(entries);
  const ctx = await unpackTar(Readable.from([gzip ? gzipSync(data) : data]), staging);
  return { root, staging, ctx };
}
const refused = (entries: readonly Entry[], message: RegExp) =>
  assert.rejects(unpack(entries), { name: 'InvalidParameterError', message });

describe('unpackTar(): plugin contexts', () => {
  it('unpacks config.json and rootfs/ (gzip detected), keeping absolute symlinks verbatim', async () => {
    const { staging, ctx } = await unpack(
      [
        CONFIG,
        { path: 'rootfs/bin', type: 'Directory' },
        ROOTFS_FILE,
        { path: 'rootfs/bin/sh', type: 'SymbolicLink', linkpath: '/p' },
        { path: 'other', body: 'ignored' },
      ],
      true,
    );
    assert.deepEqual(ctx.manifest, { Entrypoint: ['/p'] });
    assert.equal(readFileSync(join(staging, 'rootfs/p'), 'utf8'), 'binary');
    assert.equal(readlinkSync(join(staging, 'rootfs/bin/sh')), '/p');
    assert.equal(existsSync(join(staging, 'other')), false);
  });

  it('writes every byte of large files from a gzip context fed in many pieces (inflated pieces counted)', async () => {
    const big = 'plugin rootfs layer digest socket\n'.repeat(40_000); // 1.3 MiB, compresses ~100:1
    const data = gzipSync(
      tarball([CONFIG, { path: 'rootfs/big', body: big }, { path: 'rootfs/p', body: big }]),
    );
    const pieces = Array.from({ length: Math.ceil(data.length / 1000) }, (_, i) =>
      data.subarray(i * 1000, (i + 1) * 1000),
    );
    const staging = join(fresh(), 'staging');
    await unpackTar(Readable.from(pieces), staging);
    assert.equal(readFileSync(join(staging, 'rootfs/big'), 'utf8'), big);
    assert.equal(readFileSync(join(staging, 'rootfs/p'), 'utf8'), big);
  });

  it('unpacks an empty file and a hard link from a gzip context fed a byte at a time at first', async () => {
    const big = 'x'.repeat(100_000);
    const data = gzipSync(
      tarball([
        CONFIG,
        { path: 'rootfs/empty', body: '' },
        { path: 'rootfs/p', body: big },
        { path: 'rootfs/q', type: 'Link', linkpath: 'rootfs/p' },
      ]),
    );
    const pieces = [data.subarray(0, 1), data.subarray(1, 2), data.subarray(2)]; // the magic split in two
    const staging = join(fresh(), 'staging');
    await unpackTar(Readable.from(pieces), staging);
    assert.equal(readFileSync(join(staging, 'rootfs/empty'), 'utf8'), '');
    assert.equal(readFileSync(join(staging, 'rootfs/p'), 'utf8'), big);
    assert.equal(readFileSync(join(staging, 'rootfs/q'), 'utf8'), big);
  });

  it('tells compressed streams by their first bytes, however few have come', () => {
    const cases: [number[], boolean][] = [
      [[0x1f], true],
      [[0x1f, 0x8b, 0x08], true],
      [[0x1f, 0x00], false],
      [[0x28, 0xb5], true],
      [[0x28, 0xb5, 0x2f, 0xfd], true],
      [[0x28, 0xb5, 0x2f, 0x00], false],
      [[...Buffer.from('conf')], false], // a plain tar starts with its first entry's name
    ];
    for (const [bytes, compressed] of cases)
      assert.equal(startsCompressed(Buffer.from(bytes)), compressed, Buffer.from(bytes).toString('hex'));
  });

  it('refuses a rootfs or config.json that is a symlink (it would point the plugin at the host)', async () => {
    await refused([CONFIG, { path: 'rootfs', type: 'SymbolicLink', linkpath: '/' }], /rootfs is a symlink/);
    await refused(
      [{ path: 'config.json', type: 'SymbolicLink', linkpath: '/etc/hostname' }, ROOTFS_FILE],
      /config.json is a symlink/,
    );
  });

  it('refuses traversal, hard links out of the archive, writes through symlinks and device entries', async () => {
    await refused(
      [CONFIG, ROOTFS_FILE, { path: 'rootfs/../../outside/x', body: 'x' }],
      /refusing plugin context/,
    );
    await refused(
      [CONFIG, ROOTFS_FILE, { path: 'rootfs/passwd', type: 'Link', linkpath: '../../outside/x' }],
      /refusing plugin context/,
    );
    await refused(
      [
        CONFIG,
        ROOTFS_FILE,
        { path: 'rootfs/etc', type: 'SymbolicLink', linkpath: '/etc' },
        { path: 'rootfs/etc/passwd', body: 'x' },
      ],
      /refusing symlink rootfs\/etc: another entry of the archive has the same path/,
    );
    await refused(
      [CONFIG, ROOTFS_FILE, { path: 'rootfs/dev/null', type: 'CharacterDevice' }],
      /rootfs\/dev\/null \(CharacterDevice: device, FIFO and special entries are not allowed\)/,
    );
  });

  it('accepts a hard link to an earlier regular file and refuses one to a directory (node-tar hung on it)', async () => {
    const { staging } = await unpack([
      CONFIG,
      ROOTFS_FILE,
      { path: 'rootfs/q', type: 'Link', linkpath: 'rootfs/p' },
    ]);
    assert.equal(lstatSync(join(staging, 'rootfs/q')).ino, lstatSync(join(staging, 'rootfs/p')).ino);
    await refused(
      [CONFIG, ROOTFS_FILE, { path: 'rootfs/rootfs', type: 'Link', linkpath: 'rootfs' }],
      /rootfs\/rootfs \(hard link to "rootfs", which is not a regular file earlier in the archive\)/,
    );
    await refused(
      [CONFIG, { path: 'rootfs/q', type: 'Link', linkpath: 'rootfs/p' }, ROOTFS_FILE],
      /hard link to "rootfs\/p"/,
    );
  });

  it('enforces the entry and size limits', async () => {
    const entries = [CONFIG, ...Array.from({ length: 5 }, (_, i) => ({ path: `rootfs/f${i}`, body: 'x' }))];
    const staging = join(fresh(), 's');
    await assert.rejects(
      unpackTar(Readable.from([tarball(entries)]), staging, {
        maxBytes: 1 << 20,
        maxContentBytes: 1 << 20,
        maxEntries: 3,
      }),
      /more than 3 entries/,
    );
    await assert.rejects(
      unpackTar(Readable.from([tarball(entries)]), join(fresh(), 's'), {
        maxBytes: 1024,
        maxContentBytes: 1 << 20,
        maxEntries: 100,
      }),
      /plugin context is larger than 1024 bytes/,
    );
  });

  it("keeps the archive's mtimes of directories and symlinks (a re-push of the same plugin is the same layer)", async () => {
    const { staging } = await unpack([
      CONFIG,
      { path: 'rootfs/', type: 'Directory' },
      ROOTFS_FILE,
      { path: 'rootfs/d/', type: 'Directory' },
      { path: 'rootfs/d/e/', type: 'Directory' },
      { path: 'rootfs/d/e/f', body: 'x' },
      { path: 'rootfs/d/l', type: 'SymbolicLink', linkpath: '/etc/hostname' },
    ]);
    for (const p of ['rootfs', 'rootfs/d', 'rootfs/d/e', 'rootfs/d/e/f', 'rootfs/d/l'])
      assert.equal(lstatSync(join(staging, p)).mtimeMs, 0, p);
  });

  it('stops at the first entry over a limit: the rest of the archive is not read, nothing stays in memory', async () => {
    const { stream, pulled } = manyEntriesTar(50_000); // ~51 MB if read to the end
    const limits = { maxBytes: 1 << 30, maxContentBytes: 1 << 30, maxEntries: 1_000 };
    const staging = join(fresh(), 's');
    await assert.rejects(unpackTar(stream, staging, limits), /more than 1000 entries/);
    assert.ok(pulled() < 4 << 20, `read ${pulled()} bytes of the archive after the limit was hit`);
    assert.deepEqual(readdirSync(dirname(staging)), ['s']); // no link spool left beside it
    const overSize = manyEntriesTar(50_000);
    await assert.rejects(
      unpackTar(overSize.stream, join(fresh(), 's'), { ...limits, maxEntries: 1e6, maxContentBytes: 500 }),
      /more than 500 bytes of content/,
    );
    assert.ok(overSize.pulled() < 4 << 20);
  });

  it('creates symlinks after the files, from a spool on disk, wherever they come in the archive', async () => {
    const staging = join(fresh(), 's');
    const links = Array.from({ length: 3000 }, (_, i) => ({
      path: `rootfs/l${i}`,
      type: 'SymbolicLink' as const,
      linkpath: `/target/${'x'.repeat(i % 90)}${i}`,
    }));
    await unpackTar(Readable.from([tarball([CONFIG, ...links, ROOTFS_FILE])]), staging);
    for (const i of [0, 1, 89, 90, 2999])
      assert.equal(readlinkSync(join(staging, `rootfs/l${i}`)), `/target/${'x'.repeat(i % 90)}${i}`);
    assert.deepEqual(readdirSync(dirname(staging)), ['s']);
  });

  it('says so for a body that is not a tar at all', async () => {
    await assert.rejects(unpackTar(Readable.from([Buffer.from('hello, not a tar')]), join(fresh(), 's')), {
      name: 'InvalidParameterError',
    });
  });
});

describe('extractLayer(): image layers over a rootfs', () => {
  it('applies whiteouts and opaque directories from upper layers, and lets a layer replace a lower symlink', async () => {
    const rootfs = join(fresh(), 'rootfs');
    await extractLayer(
      Readable.from([
        tarball([
          { path: 'etc/', type: 'Directory' },
          { path: 'etc/a', body: 'a' },
          { path: 'etc/b', body: 'b' },
          { path: 'cache/', type: 'Directory' },
          { path: 'cache/x', body: 'x' },
          { path: 'link', type: 'SymbolicLink', linkpath: '/etc/a' },
        ]),
      ]),
      rootfs,
    );
    await extractLayer(
      Readable.from([
        gzipSync(
          tarball([
            { path: 'etc/.wh.a', body: '' },
            { path: 'cache/.wh..wh..opq', body: '' },
            { path: 'link', type: 'SymbolicLink', linkpath: '/etc/b' },
          ]),
        ),
      ]),
      rootfs,
    );
    assert.deepEqual(readdirSync(join(rootfs, 'etc')), ['b']);
    assert.deepEqual(readdirSync(join(rootfs, 'cache')), []);
    assert.equal(readlinkSync(join(rootfs, 'link')), '/etc/b');
  });
});

describe('unpackTar() never writes outside its staging directory (fast-check)', () => {
  const segment = fc.constantFrom('rootfs', '..', '.', 'a', 'b', 'etc', '', 'outside');
  const entry = fc.record({
    path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/')),
    type: fc.constantFrom('File', 'Directory', 'SymbolicLink', 'Link', 'FIFO') as fc.Arbitrary<
      NonNullable<Entry['type']>
    >,
    body: fc.string({ maxLength: 8 }),
    linkpath: fc.oneof(
      fc.constant('/etc'),
      fc.constant('../../outside'),
      fc.constant('a'),
      fc.constant('../a'),
    ),
  });

  it('whatever the entries, the result is a context or a user error, and the sentinel stays untouched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 8 }), async (entries) => {
        const root = fresh();
        mkdirSync(join(root, 'outside'), { recursive: true });
        try {
          await unpackTar(Readable.from([tarball([CONFIG, ROOTFS_FILE, ...entries])]), join(root, 'staging'));
        } catch (err) {
          assert.equal((err as Error).name, 'InvalidParameterError', (err as Error).stack);
        }
        assert.deepEqual(readdirSync(join(root, 'outside')), []);
        for (const name of readdirSync(root)) assert.ok(['outside', 'staging'].includes(name), name);
        for (const file of readdirSync(join(root, 'staging'), { recursive: true }) as string[]) {
          const path = join(root, 'staging', file);
          assert.ok(!relative(join(root, 'staging'), path).startsWith('..'));
          if (lstatSync(path).isFile()) assert.ok(lstatSync(path).nlink === 1 || file.startsWith('rootfs/'));
        }
        rmSync(root, { recursive: true, force: true });
      }),
      { numRuns: 200 },
    );
  });
});
