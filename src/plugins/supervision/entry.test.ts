import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthMonitor } from '../health/index.ts';
import { decodePlugin, type Plugin } from '../model/index.ts';
import { newEntry, viewOf, viewsJson } from './entry.ts';

const plugin = (name: string): Plugin =>
  decodePlugin({ Id: name.repeat(64).slice(0, 64), Name: name, Config: {} });

describe('viewsJson()', () => {
  it('is the UTF-8 of JSON.stringify of the views, byte for byte, also after the live status and the state change', () => {
    const a = newEntry({ plugin: plugin('a'), warnings: ['w1'] });
    const b = newEntry({ plugin: plugin('b'), runtime: 'crun' });
    const same = () => assert.deepEqual(viewsJson([a, b]), Buffer.from(JSON.stringify([a, b].map(viewOf))));
    same();
    a.run.status.state = 'running';
    a.run.status.pid = 42;
    a.run.status.warnings.push('"quoted"\n');
    b.refs = 3;
    same();
    a.state = { ...a.state, plugin: { ...a.state.plugin, Enabled: true } };
    same();
    assert.deepEqual(viewsJson([]), Buffer.from('[]'));
  });

  it('writes every status field as JSON.stringify would, and odd field types through the generic path', () => {
    const wide = decodePlugin({ Id: 'c'.repeat(64), Name: 'c', Config: { Description: '日本 😀 \ud800' } });
    const e = newEntry({ plugin: wide, health: { Interval: 2e9, Retries: 5 } });
    const same = () => assert.deepEqual(viewsJson([e]), Buffer.from(JSON.stringify([viewOf(e)])));
    const s = e.run.status;
    same();
    Object.assign(s, { state: 'running', pid: 7, runtime: 'r\u2028"x"😀', restarts: 2, lastExitCode: 137 });
    Object.assign(s, {
      startedAt: '2026-12-02T04:00:00.000Z',
      lastError: 'exit \\ "1"\n',
      warnings: ['é', '\u0000'],
    });
    same();
    e.run.health = { state: { Status: 'healthy', FailingStreak: 0, Log: [] } } as unknown as HealthMonitor;
    same();
    e.run.health = { state: undefined } as unknown as HealthMonitor;
    same();
    for (const odd of [
      { pid: Number.NaN },
      { pid: 1.5 },
      { lastExitCode: undefined },
      { startedAt: undefined },
    ]) {
      Object.assign(s, odd);
      same();
    }
    s.warnings = [undefined as unknown as string];
    same();
    const { health: _, ...stored } = e.state;
    e.state = { ...stored, warnings: [] };
    s.warnings = [];
    same();
  });

  it('places the status block as the spread does when a plugin object is empty or has a Status key', () => {
    for (const odd of [{}, { Status: 'x', Name: 'n' }, { Name: 'n', Status: 'x' }]) {
      const e = newEntry({ plugin: odd as unknown as Plugin });
      assert.deepEqual(viewsJson([e]), Buffer.from(JSON.stringify([viewOf(e)])));
    }
  });
});
