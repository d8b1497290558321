import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { infoJson } from './system.ts';

describe('infoJson()', () => {
  const runtimes = { runc: { path: 'runc', status: { 'berth.reason': '$& $\' $1 "q"' } } };
  const views = [{ Name: 'runc', Status: { Health: 'ok', Features: null } }];
  const rt = { runtimes, views, runtimesJson: JSON.stringify(runtimes), viewsJson: JSON.stringify(views) };

  it('is JSON.stringify of /info, byte for byte, with the runtime blocks taken from their JSON', () => {
    const info = { ID: 'x', Runtimes: runtimes, DefaultRuntime: 'runc', BerthRuntimes: views, Name: 'h' };
    assert.equal(infoJson(info, rt), JSON.stringify(info));
  });

  it('serialises blocks of another runtime set (a reload in between) and strings like the marks as they are', () => {
    const other = { crun: { path: 'crun' } };
    const info = { Name: 'berth-runtimes-', Runtimes: other, BerthRuntimes: [] };
    assert.equal(infoJson(info, rt), JSON.stringify(info));
  });
});
