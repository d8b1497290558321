import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tar from 'tar';
import { decodeManifest } from '../model/manifest.ts';
import { packPlugin } from './pack.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = decodeManifest({
  Entrypoint: ['/p'],
  Interface: { Types: ['docker.authz/1.0'], Socket: 'a.sock' },
});

async function listing(file: string): Promise<string[]> {
  const out: string[] = [];
  await tar.t({ file, onReadEntry: (e) => out.push(`${e.path} ${e.uid}:${e.gid}`) });
  return out;
}

describe('packPlugin', () => {
  it('packs an unchanged rootfs to the same layer (sorted entries, no atime/ctime), keeping owners', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'b/d'), { recursive: true });
    mkdirSync(join(rootfs, 'a'), { recursive: true });
    writeFileSync(join(rootfs, 'b/d/f'), 'x');
    writeFileSync(join(rootfs, 'a-file'), 'y');
    symlinkSync('/etc/hostname', join(rootfs, 'b/l'));
    if (process.getuid?.() === 0) chownSync(join(rootfs, 'a-file'), 1234, 5678);
    mkdirSync(join(dir, 'w1'));
    mkdirSync(join(dir, 'w2'));
    const first = await packPlugin(rootfs, config, join(dir, 'w1'));
    chmodSync(join(rootfs, 'b/d/f'), 0o644); // a new ctime, same content and mode
    await new Promise((r) => setTimeout(r, 1100));
    chmodSync(join(rootfs, 'b'), 0o755);
    const second = await packPlugin(rootfs, config, join(dir, 'w2'));
    assert.equal(second.layer.diffId, first.layer.diffId);
    assert.equal(second.layer.digest, first.layer.digest);
    assert.equal(second.manifest.digest, first.manifest.digest);
    const entries = await listing(first.layer.file);
    assert.deepEqual(
      entries.map((e) => e.split(' ')[0]),
      ['a/', 'a-file', 'b/', 'b/d/', 'b/d/f', 'b/l'],
    );
    if (process.getuid?.() === 0) assert.ok(entries.includes('a-file 1234:5678'), entries.join(', '));
  });
});
