import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type InProcessApi, inProcessApi } from '../../test/api-backend.ts';
import { tarball } from '../../test/fixtures/tarball.ts';

/** A lower-case manifest, as Docker's documentation writes them. */
const CONTEXT = tarball([
  {
    path: 'config.json',
    body: JSON.stringify({
      entrypoint: ['/p'],
      env: [{ name: 'DEBUG', settable: ['value'], value: '0' }],
      interface: { types: ['docker.volumedriver/1.0'], socket: 'p.sock' },
    }),
  },
  { path: 'rootfs/p', body: 'x' },
]);

describe('request bodies whatever their content type', () => {
  let api: InProcessApi;
  before(async () => {
    api = await inProcessApi('berth-body-');
  });
  after(() => api.close());

  const types = [
    undefined,
    'application/octet-stream',
    'application/x-tar',
    'text/plain',
    'application/json',
    'garbage',
  ];
  for (const [i, type] of types.entries()) {
    it(`creates and sets with Content-Type ${type ?? '(none)'}`, async () => {
      const headers = type ? { 'content-type': type } : {};
      const create = await api.app.inject({
        method: 'POST',
        url: `/v1.45/plugins/create?name=ct${i}`,
        headers,
        payload: i % 2 ? gzipSync(CONTEXT) : CONTEXT,
      });
      assert.equal(create.statusCode, 204, create.body);
      const set = await api.app.inject({
        method: 'POST',
        url: `/plugins/ct${i}/set`,
        headers,
        payload: '["DEBUG=1"]',
      });
      assert.equal(set.statusCode, 204, set.body);
      assert.deepEqual(api.plugins.inspect(`ct${i}`).Settings.Env, ['DEBUG=1']);
      const volume = await api.app.inject({
        method: 'POST',
        url: '/volumes/create',
        headers,
        payload: JSON.stringify({ name: 'v1', driver: `ct${i}` }),
      });
      // Decoded with lower-case keys: the driver is found, and is disabled.
      assert.deepEqual(
        [volume.statusCode, volume.json().message],
        [409, `plugin ct${i}:latest found but disabled`],
      );
    });
  }

  it('refuses a JSON body over the limit with 413 and a bad one with 400', async () => {
    const big = await api.app.inject({
      method: 'POST',
      url: '/plugins/x/set',
      payload: `["${'a'.repeat(1 << 21)}"]`,
    });
    assert.equal(big.statusCode, 413);
    const bad = await api.app.inject({ method: 'POST', url: '/plugins/x/set', payload: '[' });
    assert.match(bad.json().message, /request body is not valid JSON/);
  });

  it('reads pull privileges with keys in any case', async () => {
    const r = await api.app.inject({
      method: 'POST',
      url: '/plugins/pull?remote=127.0.0.1:1/a/b:1&name=pulled',
      payload: JSON.stringify([{ name: 'network', description: '', value: ['host'] }]),
    });
    // The body was accepted: the failure is the (closed) registry, not the privileges.
    assert.equal(r.statusCode, 503, r.body);
    assert.doesNotMatch(r.body, /failed to parse privileges/);
  });
});
