import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodePlugin } from '../model/decode.ts';
import { CappedLog, readCappedLog } from './capped-log.ts';
import { PluginStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const plugin = (id: string) =>
  decodePlugin({
    Id: id,
    Name: 'p:latest',
    Config: { Entrypoint: ['/p'], Interface: { Types: ['docker.volumedriver/1.0'], Socket: 's.sock' } },
  });

describe('PluginStore', () => {
  it('publishes a staged plugin with one rename, and loads it back', () => {
    const store = new PluginStore(join(dir, 'a'));
    store.load();
    const staging = store.stage();
    mkdirSync(join(staging, 'rootfs'));
    const id = 'a'.repeat(64);
    store.commit(staging, { plugin: plugin(id), runtime: 'crun' });
    assert.equal(existsSync(staging), false);
    const report = store.load();
    assert.deepEqual(
      report.plugins.map((p) => [p.plugin.Id, p.runtime]),
      [[id, 'crun']],
    );
    assert.deepEqual(report.broken, []);
  });

  it('cleans staging and half-removed leftovers, and reports broken entries without failing', () => {
    const store = new PluginStore(join(dir, 'b'));
    store.load();
    const staging = store.stage(); // an interrupted create
    writeFileSync(join(staging, 'junk'), 'x');
    mkdirSync(join(store.root, `${'c'.repeat(64)}-removing`)); // an interrupted remove
    mkdirSync(join(store.root, 'd'.repeat(64))); // no state file
    mkdirSync(join(store.root, 'e'.repeat(64)));
    writeFileSync(join(store.root, 'e'.repeat(64), 'state.json'), '{"plugin": {"Id": 42}}');
    const report = store.load();
    assert.deepEqual(report.plugins, []);
    assert.equal(report.cleaned.length, 2);
    assert.equal(existsSync(join(store.root, 'tmp')), false);
    assert.deepEqual(report.broken.map((b) => b.id).sort(), ['d'.repeat(64), 'e'.repeat(64)]);
    assert.match(
      report.broken.find((b) => b.id === 'e'.repeat(64))?.reason ?? '',
      /state.plugin.Config is required; fix or delete/,
    );
  });

  it('a state write a crash interrupted leaves the old state, and its temp file goes at load', () => {
    const store = new PluginStore(join(dir, 'g'));
    store.load();
    const staging = store.stage();
    mkdirSync(join(staging, 'rootfs'));
    const id = '9'.repeat(64);
    store.commit(staging, { plugin: plugin(id) });
    // What a prepared save leaves when berthd is killed before its commit: the temp file, written and fsynced.
    writeFileSync(join(store.dir(id), '.tmp-state.json-4242-0a0b0c0d'), JSON.stringify({ plugin: 'new' }));
    assert.equal(store.load().plugins[0]?.plugin.Enabled, false);
    assert.deepEqual(readdirSync(store.dir(id)).sort(), ['rootfs', 'state.json']);
  });

  it('removes a plugin completely', () => {
    const store = new PluginStore(join(dir, 'c'));
    store.load();
    const staging = store.stage();
    mkdirSync(join(staging, 'rootfs'));
    const id = 'f'.repeat(64);
    store.commit(staging, { plugin: plugin(id) });
    store.remove(id);
    assert.deepEqual(
      readdirSync(store.root).filter((e) => e !== 'tmp'),
      [],
    );
  });
});

describe('PluginStore.replaceRootfs() (upgrade)', () => {
  const id = '9'.repeat(64);
  const withDescription = (d: string) => {
    const p = plugin(id);
    return { ...p, Config: { ...p.Config, Description: d } };
  };
  /** A store holding version "old", plus a staged rootfs of version "new". */
  const setup = (name: string) => {
    const store = new PluginStore(join(dir, name));
    store.load();
    const staging = store.stage();
    mkdirSync(join(staging, 'rootfs'));
    writeFileSync(join(staging, 'rootfs', 'version'), 'old');
    store.commit(staging, { plugin: withDescription('old') });
    const next = store.stage();
    mkdirSync(join(next, 'rootfs'));
    writeFileSync(join(next, 'rootfs', 'version'), 'new');
    return { store, newRootfs: join(next, 'rootfs'), pdir: store.dir(id) };
  };
  const loaded = (store: PluginStore) => {
    const [state] = store.load().plugins;
    return [state?.plugin.Config.Description, readFileSync(join(store.rootfs(id), 'version'), 'utf8')];
  };

  it('swaps rootfs and state and leaves nothing aside', () => {
    const { store, newRootfs, pdir } = setup('up-ok');
    store.replaceRootfs(newRootfs, { plugin: withDescription('new') });
    assert.deepEqual(loaded(store), ['new', 'new']);
    assert.deepEqual(readdirSync(pdir).sort(), ['rootfs', 'state.json']);
  });

  // Each crash point of replaceRootfs, reproduced on disk: load() must see one whole version, never a mix.
  const steps: [string, (s: { pdir: string; newRootfs: string }) => void, string][] = [
    [
      'after writing the next state',
      ({ pdir }) => writeFileSync(join(pdir, 'state.next.json'), nextState()),
      'old',
    ],
    [
      'after moving the old rootfs aside',
      ({ pdir }) => {
        writeFileSync(join(pdir, 'state.next.json'), nextState());
        renameSync(join(pdir, 'rootfs'), join(pdir, 'rootfs-old'));
      },
      'old',
    ],
    [
      'after moving the new rootfs in',
      ({ pdir, newRootfs }) => {
        writeFileSync(join(pdir, 'state.next.json'), nextState());
        renameSync(join(pdir, 'rootfs'), join(pdir, 'rootfs-old'));
        renameSync(newRootfs, join(pdir, 'rootfs'));
      },
      'old',
    ],
    [
      'after the commit rename',
      ({ pdir, newRootfs }) => {
        writeFileSync(join(pdir, 'state.next.json'), nextState());
        renameSync(join(pdir, 'rootfs'), join(pdir, 'rootfs-old'));
        renameSync(newRootfs, join(pdir, 'rootfs'));
        renameSync(join(pdir, 'state.next.json'), join(pdir, 'state.json'));
      },
      'new',
    ],
  ];
  const nextState = () => `${JSON.stringify({ plugin: withDescription('new') })}\n`;
  for (const [when, crash, version] of steps) {
    it(`a crash ${when} loads the ${version} version whole`, () => {
      const s = setup(`up-${when.replace(/ /g, '-')}`);
      crash(s);
      assert.deepEqual(loaded(s.store), [version, version]);
      assert.deepEqual(readdirSync(s.pdir).sort(), ['rootfs', 'state.json']);
    });
  }
});

describe('CappedLog', () => {
  it('rotates once so the log never takes more than twice its cap', () => {
    const path = join(dir, 'p.log');
    const log = new CappedLog(path, 10);
    for (const chunk of ['12345', '67890', 'abcde', 'fghij', 'k']) log.write(Buffer.from(chunk));
    log.close();
    assert.equal(readFileSync(path, 'utf8'), 'k');
    assert.equal(readFileSync(`${path}.1`, 'utf8'), 'abcdefghij');
    assert.equal(readCappedLog(path).toString(), 'abcdefghijk');
  });
});
