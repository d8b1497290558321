import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePlugin, type Plugin } from '../model/index.ts';
import { newEntry, viewOf, viewsJson } from './entry.ts';

const plugin = (name: string): Plugin =>
  decodePlugin({ Id: name.repeat(64).slice(0, 64), Name: name, Config: {} });

describe('viewsJson()', () => {
  it('is JSON.stringify of the views, byte for byte, also after the live status and the state change', () => {
    const a = newEntry({ plugin: plugin('a'), warnings: ['w1'] });
    const b = newEntry({ plugin: plugin('b'), runtime: 'crun' });
    const same = () => assert.equal(viewsJson([a, b]), JSON.stringify([a, b].map(viewOf)));
    same();
    a.run.status.state = 'running';
    a.run.status.pid = 42;
    a.run.status.warnings.push('"quoted"\n');
    b.refs = 3;
    same();
    a.state = { ...a.state, plugin: { ...a.state.plugin, Enabled: true } };
    same();
    assert.equal(viewsJson([]), '[]');
  });

  it('places the status block as the spread does when a plugin object is empty or has a Status key', () => {
    for (const odd of [{}, { Status: 'x', Name: 'n' }, { Name: 'n', Status: 'x' }]) {
      const e = newEntry({ plugin: odd as unknown as Plugin });
      assert.equal(viewsJson([e]), JSON.stringify([viewOf(e)]));
    }
  });
});
