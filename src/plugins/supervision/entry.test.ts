import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthMonitor } from '../health/index.ts';
import { decodePlugin, type Plugin } from '../model/index.ts';
import { type Entry, ListingCache, newEntry, viewOf } from './entry.ts';

const plugin = (name: string): Plugin =>
  decodePlugin({ Id: name.repeat(64).slice(0, 64), Name: name, Config: {} });

/** A new ListingCache and a long-lived one both answer JSON.stringify of the views, whatever changed since. */
const cache = new ListingCache();
function assertListing(entries: Entry[]): void {
  const want = Buffer.from(JSON.stringify(entries.map(viewOf)));
  assert.deepEqual(new ListingCache().json(entries), want);
  assert.deepEqual(cache.json(entries), want);
}

describe('ListingCache', () => {
  it('is the UTF-8 of JSON.stringify of the views, byte for byte, also after the live status and the state change', () => {
    const a = newEntry({ plugin: plugin('a'), warnings: ['w1'] });
    const b = newEntry({ plugin: plugin('b'), runtime: 'crun' });
    const same = () => assertListing([a, b]);
    same();
    a.run.status.state = 'running';
    a.run.status.pid = 42;
    a.run.status.warnings.push('"quoted"\n');
    b.refs = 3;
    same();
    a.state = { ...a.state, plugin: { ...a.state.plugin, Enabled: true } };
    same();
    assert.deepEqual(new ListingCache().json([]), Buffer.from('[]'));
  });

  it('writes every status field as JSON.stringify would, and odd field types through the generic path', () => {
    const wide = decodePlugin({ Id: 'c'.repeat(64), Name: 'c', Config: { Description: '日本 😀 \ud800' } });
    const e = newEntry({ plugin: wide, health: { Interval: 2e9, Retries: 5 } });
    const same = () => assertListing([e]);
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
      assertListing([e]);
    }
  });
});

describe('ListingCache', () => {
  it('gives the same Buffer while nothing shown changed, and a new one after any change of what it shows', () => {
    const a = newEntry({ plugin: plugin('a'), warnings: ['w1'] });
    const b = newEntry({ plugin: plugin('b') });
    const c = new ListingCache();
    let last = c.json([a, b]);
    let entries = [a, b];
    const s = a.run.status;
    const changes: [string, () => void][] = [
      ['run state', () => Object.assign(s, { state: 'running' })],
      ['pid', () => Object.assign(s, { pid: 9 })],
      ['runtime', () => Object.assign(s, { runtime: 'crun' })],
      ['restarts', () => Object.assign(s, { restarts: 1 })],
      ['startedAt', () => Object.assign(s, { startedAt: 'now' })],
      ['lastError', () => Object.assign(s, { lastError: 'x' })],
      ['lastExitCode', () => Object.assign(s, { lastExitCode: 0 })],
      ['new warnings', () => Object.assign(s, { warnings: ['w'] })],
      ['warning pushed', () => s.warnings.push('v')],
      ['warning changed in place', () => s.warnings.splice(0, 1, 'u')],
      ['refcount', () => Object.assign(b, { refs: 2 })],
      [
        'stored state',
        () => Object.assign(b, { state: { ...b.state, plugin: { ...b.state.plugin, Enabled: true } } }),
      ],
      ['health settings', () => Object.assign(b, { state: { ...b.state, health: { Retries: 9 } } })],
      ['health monitor', () => Object.assign(b.run, { health: healthy('healthy') })],
      ['health state', () => Object.assign(b.run, { health: healthy('unhealthy') })],
      ['order', () => entries.reverse()],
      ['removed', () => entries.pop()],
      ['added', () => entries.push(newEntry({ plugin: plugin('c') }))],
      ['replaced by a copy', () => entries.splice(1, 1, newEntry({ plugin: plugin('c') }))],
    ];
    for (const [what, change] of changes) {
      change();
      entries = [...entries];
      const want = Buffer.from(JSON.stringify(entries.map(viewOf)));
      const now = c.json(entries);
      assert.deepEqual(now, want, what);
      assert.equal(c.json(entries), now, `${what}: unchanged, the same Buffer`);
      if (what !== 'replaced by a copy') assert.notEqual(now, last, what);
      last = now;
    }
  });
});

function healthy(Status: string): HealthMonitor {
  return { state: { Status, FailingStreak: 0, Log: [] } } as unknown as HealthMonitor;
}
