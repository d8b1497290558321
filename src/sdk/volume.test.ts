import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import type { VolumeDriver } from './index.ts';

describe('SDK volume driver', () => {
  const calls: unknown[] = [];
  const driver: VolumeDriver = {
    create: (r) => void calls.push(['create', r]),
    remove: (r) => {
      if (r.Name === 'busy') throw new Error('volume busy is in use');
      calls.push(['remove', r]);
    },
    path: (r) => ({ Mountpoint: `/data/${r.Name}` }),
    mount: (r) => ({ Mountpoint: `/data/${r.Name}#${r.ID}` }),
    unmount: (r) => void calls.push(['unmount', r]),
    get: (r) => ({ Name: r.Name, Mountpoint: `/data/${r.Name}`, Status: {} }),
    list: async () => [{ Name: 'a', Mountpoint: '/data/a' }],
  };
  let s: Awaited<ReturnType<typeof testServer>>;
  before(async () => {
    s = await testServer({ volume: driver });
  });
  after(() => s.stop());

  it('answers Plugin.Activate with VolumeDriver, in the plugin media type', async () => {
    const a = await post(s.socket, 'Plugin.Activate');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/vnd.docker.plugins.v1+json');
    assert.deepEqual(a.body, { Implements: ['VolumeDriver'] });
  });

  it('passes Create its Name and Opts, and answers {}', async () => {
    const a = await post(s.socket, 'VolumeDriver.Create', { Name: 'v1', Opts: { size: '1G' } });
    assert.deepEqual([a.status, a.body], [200, {}]);
    assert.deepEqual(calls.at(-1), ['create', { Name: 'v1', Opts: { size: '1G' } }]);
  });

  it('matches keys case-insensitively and ignores unknown ones, as Go does', async () => {
    await post(s.socket, 'VolumeDriver.Create', { name: 'v2', OPTS: {}, extra: 1 });
    assert.deepEqual(calls.at(-1), ['create', { Name: 'v2', Opts: {} }]);
  });

  it('answers Path, Mount (with the caller id), Get and List in Docker shapes', async () => {
    assert.deepEqual((await post(s.socket, 'VolumeDriver.Path', { Name: 'v1' })).body, {
      Mountpoint: '/data/v1',
    });
    const m = await post(s.socket, 'VolumeDriver.Mount', { Name: 'v1', ID: 'c1' });
    assert.deepEqual(m.body, { Mountpoint: '/data/v1#c1' });
    await post(s.socket, 'VolumeDriver.Unmount', { Name: 'v1', ID: 'c1' });
    assert.deepEqual(calls.at(-1), ['unmount', { Name: 'v1', ID: 'c1' }]);
    assert.deepEqual((await post(s.socket, 'VolumeDriver.Get', { Name: 'v1' })).body, {
      Volume: { Name: 'v1', Mountpoint: '/data/v1', Status: {} },
    });
    assert.deepEqual((await post(s.socket, 'VolumeDriver.List', {})).body, {
      Volumes: [{ Name: 'a', Mountpoint: '/data/a' }],
    });
  });

  it('answers Capabilities with local scope by default', async () => {
    const a = await post(s.socket, 'VolumeDriver.Capabilities', {});
    assert.deepEqual(a.body, { Capabilities: { Scope: 'local' } });
  });

  it('maps a thrown error to 500 {"Err": message}', async () => {
    const a = await post(s.socket, 'VolumeDriver.Remove', { Name: 'busy' });
    assert.deepEqual([a.status, a.body], [500, { Err: 'volume busy is in use' }]);
  });

  it('refuses bad requests with 400 naming the field, before the handler runs', async () => {
    const before = calls.length;
    const missing = await post(s.socket, 'VolumeDriver.Create', {});
    assert.equal(missing.status, 400);
    assert.match(String(missing.body.Err), /VolumeDriver.Create: Name is required/);
    const wrong = await post(s.socket, 'VolumeDriver.Create', { Name: 'x', Opts: { a: 1 } });
    assert.match(String(wrong.body.Err), /Opts must be an object of strings, not an object/);
    const notJson = await post(s.socket, 'VolumeDriver.Remove', '{nope');
    assert.equal(notJson.status, 400);
    assert.match(String(notJson.body.Err), /not JSON/);
    const array = await post(s.socket, 'VolumeDriver.Remove', '[]');
    assert.match(String(array.body.Err), /must be a JSON object/);
    assert.equal(calls.length, before);
  });

  it('answers 404 for a method of a protocol it was not given', async () => {
    const a = await post(s.socket, 'AuthZPlugin.AuthZReq', {});
    assert.equal(a.status, 404);
    assert.match(String(a.body.Err), /does not implement/);
  });
});
