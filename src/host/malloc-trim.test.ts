import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { loadMallocTrim, MALLOC_ADDON } from './malloc-trim.ts';
import { v8Gc } from './v8-gc.ts';

const rssAnonKiB = () => Number(/^RssAnon:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

describe('loadMallocTrim', () => {
  it('gives back the free pages between live chunks, which free() leaves resident', async () => {
    assert.ok(existsSync(MALLOC_ADDON), `${MALLOC_ADDON} not built: run scripts/setup.sh (npm test does)`);
    const loaded = loadMallocTrim();
    assert.ok('trim' in loaded, 'unavailable' in loaded ? loaded.unavailable : '');
    // 32 MiB in 96 KiB chunks (below malloc's mmap threshold, so inside its heap), every page written; then every
    // other chunk dropped and collected: 16 MiB of holes, each with a live chunk on both sides.
    let chunks = Array.from({ length: 340 }, () => Buffer.allocUnsafeSlow(96 * 1024).fill(1));
    chunks = chunks.filter((_, i) => i % 2 === 0);
    v8Gc()();
    const held = rssAnonKiB();
    // V8 may free the dropped chunks' memory on a helper thread a little after the collection.
    let given = 0;
    for (let i = 0; i < 50 && given < 8 * 1024; i++, await setTimeout(20)) {
      loaded.trim();
      given = held - rssAnonKiB();
    }
    assert.ok(given >= 8 * 1024, `malloc_trim gave back ${given} KiB of the 16 MiB of holes`);
    assert.equal(chunks.length, 170);
  });

  it("sets malloc's arena limit for bin/berthd.js, and refuses anything but an integer from 1 to 1024", () => {
    assert.ok(existsSync(MALLOC_ADDON), `${MALLOC_ADDON} not built: run scripts/setup.sh (npm test does)`);
    const addon = createRequire(import.meta.url)(MALLOC_ADDON) as { setArenaMax: (n: unknown) => boolean };
    assert.equal(addon.setArenaMax(8), true);
    assert.throws(() => addon.setArenaMax(0), { name: 'RangeError', message: /an integer from 1 to 1024/ });
    assert.throws(() => addon.setArenaMax(1.5), { name: 'RangeError' });
    assert.throws(() => addon.setArenaMax(Number.NaN), { name: 'RangeError' });
    assert.throws(() => addon.setArenaMax('one'), { name: 'TypeError', message: /must be a number/ });
    assert.throws(() => (addon.setArenaMax as () => boolean)(), { name: 'TypeError' });
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
