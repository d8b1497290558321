import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadMallocTrim, MALLOC_ADDON } from './malloc-trim.ts';
import { v8Gc } from './v8-gc.ts';

describe('loadMallocTrim', () => {
  it('loads the addon setup.sh builds, whose trim() gives back the free pages between live chunks', (t) => {
    if (!existsSync(MALLOC_ADDON) && !process.env.CI) return t.skip('native/berth-malloc.node not built');
    const loaded = loadMallocTrim();
    assert.ok('trim' in loaded, 'unavailable' in loaded ? loaded.unavailable : '');
    // Memory to give back: 16 MiB of 4 KiB chunks (below malloc's mmap threshold), every other one dropped and
    // collected, so free pages lie between live chunks where free() alone does not return them.
    let chunks: ArrayBuffer[] = Array.from({ length: 4096 }, () => new ArrayBuffer(4096));
    chunks = chunks.filter((_, i) => i % 2 === 0);
    v8Gc()();
    assert.equal(loaded.trim(), true, 'malloc gave pages back');
    assert.equal(chunks.length, 2048);
  });

  it("sets malloc's arena limit for bin/berthd.js, and refuses a limit below 1", (t) => {
    if (!existsSync(MALLOC_ADDON) && !process.env.CI) return t.skip('native/berth-malloc.node not built');
    const addon = createRequire(import.meta.url)(MALLOC_ADDON) as { setArenaMax: (n: unknown) => boolean };
    assert.equal(addon.setArenaMax(8), true);
    assert.throws(() => addon.setArenaMax(0), { name: 'RangeError', message: /at least 1/ });
    assert.throws(() => addon.setArenaMax('one'), { name: 'RangeError' });
  });

  it('reports a missing addon, and one that is not a Node-API module, instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-malloc-'));
    try {
      const missing = loadMallocTrim(join(dir, 'berth-malloc.node'));
      assert.ok('unavailable' in missing);
      assert.match(missing.unavailable, /berth-malloc\.node not built \(scripts\/setup\.sh builds it\)/);
      writeFileSync(join(dir, 'broken.node'), 'not an ELF file');
      const broken = loadMallocTrim(join(dir, 'broken.node'));
      assert.ok('unavailable' in broken);
      assert.match(broken.unavailable, /broken\.node/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
