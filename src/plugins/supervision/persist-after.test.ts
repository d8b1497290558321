import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodePlugin } from '../model/decode.ts';
import { type PluginState, PluginStore } from '../store/index.ts';
import { newEntry } from './entry.ts';
import { persistAfter } from './persist-after.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-persist-after-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A store holding one enabled plugin, its entry, and the disabled state a disable would save. */
function enabledPlugin(name: string) {
  const store = new PluginStore(join(dir, name));
  store.load();
  const staging = store.stage();
  mkdirSync(join(staging, 'rootfs'));
  const id = name.padEnd(64, '0');
  const plugin = decodePlugin({
    Id: id,
    Name: `${name}:latest`,
    Enabled: true,
    Config: { Entrypoint: ['/p'], Interface: { Types: ['docker.volumedriver/1.0'], Socket: 's.sock' } },
  });
  store.commit(staging, { plugin });
  const e = newEntry({ plugin });
  const next: PluginState = { ...e.state, plugin: { ...plugin, Enabled: false } };
  // Read as the next start would, without load(): that drops the temp file of a save still under way.
  const enabledOnDisk = () =>
    (JSON.parse(readFileSync(join(store.dir(id), 'state.json'), 'utf8')) as PluginState).plugin.Enabled;
  return { store, e, next, enabledOnDisk, files: () => readdirSync(store.dir(id)).sort() };
}

describe('persistAfter', () => {
  it('commits after the work when the work never says it may commit sooner', async () => {
    const p = enabledPlugin('a');
    await persistAfter(p.store, p.e, p.next, async () => assert.equal(p.enabledOnDisk(), true), 'disable');
    assert.equal(p.enabledOnDisk(), false);
    assert.equal(p.e.state, p.next);
  });

  it('commits beside the rest of the work once it is told to, before the work ends', async () => {
    const p = enabledPlugin('b');
    let seenDuring: boolean | undefined;
    await persistAfter(
      p.store,
      p.e,
      p.next,
      async (commitNow) => {
        commitNow();
        commitNow(); // a second call changes nothing
        await new Promise((r) => setTimeout(r, 50)); // the wait for the exit
        seenDuring = p.enabledOnDisk();
      },
      'disable',
    );
    assert.equal(seenDuring, false);
    assert.equal(p.enabledOnDisk(), false);
    assert.deepEqual(p.files(), ['rootfs', 'state.json']);
  });

  it('saves the old state again when the work fails after an early commit', async () => {
    const p = enabledPlugin('c');
    await assert.rejects(
      persistAfter(
        p.store,
        p.e,
        p.next,
        async (commitNow) => {
          commitNow();
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('SIGKILL refused');
        },
        'disable',
      ),
      /SIGKILL refused/,
    );
    assert.equal(p.enabledOnDisk(), true);
    assert.equal(p.e.state.plugin.Enabled, true);
    assert.deepEqual(p.files(), ['rootfs', 'state.json']);
  });

  it('leaves the old state and no temp file when the work fails before any commit', async () => {
    const p = enabledPlugin('d');
    await assert.rejects(
      persistAfter(p.store, p.e, p.next, async () => Promise.reject(new Error('kill failed')), 'disable'),
      /kill failed/,
    );
    assert.equal(p.enabledOnDisk(), true);
    assert.deepEqual(p.files(), ['rootfs', 'state.json']);
  });
});
