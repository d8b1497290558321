/** The SDK against berth's own plugin client (what berthd calls plugins with). */
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import { NotFoundError, SystemError } from '../errdefs/index.ts';
import { activate, PluginClient } from '../plugins/index.ts';

describe('SDK ↔ berth PluginClient', () => {
  const volumes = new Map<string, string>();
  let s: Awaited<ReturnType<typeof testServer>>;
  let client: PluginClient;
  before(async () => {
    s = await testServer({
      volume: {
        create: (r) => void volumes.set(r.Name, `/data/${r.Name}`),
        remove: (r) => {
          if (!volumes.delete(r.Name)) throw new Error(`no such volume: ${r.Name}`);
        },
        path: (r) => ({ Mountpoint: volumes.get(r.Name) ?? '' }),
        mount: (r) => ({ Mountpoint: `${volumes.get(r.Name)}` }),
        unmount: () => {},
        get: (r) => ({ Name: r.Name, Mountpoint: volumes.get(r.Name) ?? '' }),
        list: () => [...volumes].map(([Name, Mountpoint]) => ({ Name, Mountpoint })),
      },
      authz: { request: (r) => ({ Allow: r.RequestMethod !== 'DELETE', Msg: 'read only' }) },
    });
    client = new PluginClient('sdk-test', dirname(s.socket), basename(s.socket), { retryWindowMs: 0 });
  });
  after(async () => {
    await client.close();
    await s.stop();
  });

  it("activates through berth's readiness check", async () => {
    const implemented = await activate(s.socket, 2_000);
    assert.deepEqual(implemented, ['VolumeDriver', 'authz']);
  });

  it('serves every volume call berth makes', async () => {
    assert.deepEqual(await client.call('VolumeDriver.Capabilities', {}), {
      Capabilities: { Scope: 'local' },
    });
    assert.deepEqual(await client.call('VolumeDriver.Create', { Name: 'v', Opts: {} }), {});
    assert.deepEqual(await client.call('VolumeDriver.Mount', { Name: 'v', ID: 'x' }), {
      Mountpoint: '/data/v',
    });
    assert.deepEqual(await client.call('VolumeDriver.List', {}), {
      Volumes: [{ Name: 'v', Mountpoint: '/data/v' }],
    });
    assert.deepEqual(await client.call('VolumeDriver.Remove', { Name: 'v' }), {});
  });

  it("surfaces a thrown error as berth's `<method>: <Err>` and an unknown method as not found", async () => {
    await assert.rejects(
      client.call('VolumeDriver.Remove', { Name: 'gone' }),
      (e) => e instanceof SystemError && e.message === 'VolumeDriver.Remove: no such volume: gone',
    );
    await assert.rejects(client.call('LogDriver.StartLogging', { File: '/x' }), NotFoundError);
    await assert.rejects(
      client.call('VolumeDriver.Create', { Name: 3 }),
      /VolumeDriver.Create: Name must be a string/,
    );
  });

  it('answers the authorization chain', async () => {
    const req = { RequestMethod: 'DELETE', RequestUri: '/v1.41/volumes/v', RequestHeaders: {} };
    assert.deepEqual(await client.call('AuthZPlugin.AuthZReq', req), { Allow: false, Msg: 'read only' });
    assert.deepEqual((await post(s.socket, 'AuthZPlugin.AuthZRes', req)).body, { Allow: true });
  });
});
