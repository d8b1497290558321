import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodePlugin } from '../model/decode.ts';
import { type PluginState, PluginStore } from '../store/index.ts';
import type { Entry } from './entry.ts';
import { persistAfter } from './persist-after.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-persist-after-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stored, disabled plugin and its entry (only `state` is read here). */
function disabledPlugin(name: string): { store: PluginStore; e: Entry; enabled: PluginState } {
  const store = new PluginStore(join(dir, name));
  store.load();
  const staging = store.stage();
  mkdirSync(join(staging, 'rootfs'));
  const plugin = decodePlugin({
    Id: name.padEnd(64, '0'),
    Name: `${name}:latest`,
    Config: { Entrypoint: ['/p'], Interface: { Types: ['docker.volumedriver/1.0'], Socket: 's.sock' } },
  });
  const state = { plugin };
  store.commit(staging, state);
  const e = { state } as unknown as Entry;
  return { store, e, enabled: { plugin: { ...plugin, Enabled: true } } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onDisk = (store: PluginStore, id: string) =>
  (JSON.parse(readFileSync(join(store.dir(id), 'state.json'), 'utf8')) as PluginState).plugin.Enabled;

describe('persistAfter', () => {
  it('commits once work calls commitNow, before work ends, and the entry takes the state at the end', async () => {
    const { store, e, enabled } = disabledPlugin('aa');
    let duringRest = false;
    await persistAfter(
      store,
      e,
      enabled,
      async (commitNow) => {
        commitNow();
        // The rest of work (the Activate round trip) goes on until the commit is on disk: a commit made only
        // after work ended would never be seen here.
        for (const t = Date.now(); !duringRest && Date.now() - t < 5000; await sleep(5))
          duringRest = onDisk(store, enabled.plugin.Id) === true;
      },
      'enable',
    );
    assert.equal(duringRest, true);
    assert.equal(e.state, enabled);
    assert.deepEqual(readdirSync(store.dir(enabled.plugin.Id)).sort(), ['rootfs', 'state.json']);
  });

  it('work failing after commitNow: the state it had is written again, the error passes through', async () => {
    const { store, e, enabled } = disabledPlugin('bb');
    const before = e.state;
    await assert.rejects(
      persistAfter(
        store,
        e,
        enabled,
        async (commitNow) => {
          commitNow();
          await sleep(20);
          throw new Error('activate went wrong');
        },
        'enable',
      ),
      /activate went wrong/,
    );
    assert.equal(onDisk(store, enabled.plugin.Id), false);
    assert.equal(e.state, before);
    assert.deepEqual(readdirSync(store.dir(enabled.plugin.Id)).sort(), ['rootfs', 'state.json']);
    assert.equal(store.load().plugins[0]?.plugin.Enabled, false);
  });

  it('work failing before commitNow: nothing was committed, no temp file is left', async () => {
    const { store, e, enabled } = disabledPlugin('cc');
    await assert.rejects(
      persistAfter(store, e, enabled, () => Promise.reject(new Error('never listened')), 'enable'),
      /never listened/,
    );
    assert.equal(onDisk(store, enabled.plugin.Id), false);
    assert.deepEqual(readdirSync(store.dir(enabled.plugin.Id)).sort(), ['rootfs', 'state.json']);
  });
});
