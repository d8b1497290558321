import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import type { AuthzRequest, AuthzResponseRequest } from './index.ts';

describe('SDK authorization plugin', () => {
  const seen: (AuthzRequest | AuthzResponseRequest)[] = [];
  let s: Awaited<ReturnType<typeof testServer>>;
  before(async () => {
    s = await testServer({
      authz: {
        request: (r) => {
          seen.push(r);
          if (r.RequestPath.startsWith('/volumes') && r.RequestMethod === 'DELETE')
            return { Allow: false, Msg: 'no deletes' };
          if (r.RequestPath === '/boom') throw new Error('policy store unreachable');
          return { Allow: true };
        },
        response: (r) => {
          seen.push(r);
          return { Allow: r.ResponseStatusCode < 500 };
        },
      },
    });
  });
  after(() => s.stop());

  it('activates as authz', async () => {
    assert.deepEqual((await post(s.socket, 'Plugin.Activate')).body, { Implements: ['authz'] });
  });

  it('decodes the request: base64 body, path without the version, headers and peer certificates', async () => {
    const a = await post(s.socket, 'AuthZPlugin.AuthZReq', {
      User: 'alice',
      UserAuthNMethod: 'TLS',
      RequestMethod: 'POST',
      RequestUri: '/v1.41/volumes/create?x=1',
      RequestBody: Buffer.from('{"Name":"v"}').toString('base64'),
      RequestHeaders: { 'Content-Type': 'application/json' },
      RequestPeerCertificates: [Buffer.from([0x30, 0x82]).toString('base64')],
    });
    assert.deepEqual([a.status, a.body], [200, { Allow: true }]);
    const r = seen.at(-1) as AuthzRequest;
    assert.equal(r.RequestPath, '/volumes/create');
    assert.deepEqual(JSON.parse(String(r.RequestBody)), { Name: 'v' });
    assert.deepEqual(r.RequestHeaders, { 'Content-Type': 'application/json' });
    assert.deepEqual(r.RequestPeerCertificates, [Buffer.from([0x30, 0x82])]);
    assert.equal(r.User, 'alice');
  });

  it('answers a deny with Allow false and the message; fills missing optional fields', async () => {
    const a = await post(s.socket, 'AuthZPlugin.AuthZReq', {
      RequestMethod: 'DELETE',
      RequestUri: '/v1.41/volumes/v',
    });
    assert.deepEqual(a.body, { Allow: false, Msg: 'no deletes' });
    const r = seen.at(-1) as AuthzRequest;
    assert.deepEqual([r.User, r.RequestBody, r.RequestHeaders], ['', undefined, {}]);
  });

  it('decodes AuthZRes with the response status, headers and body', async () => {
    const a = await post(s.socket, 'AuthZPlugin.AuthZRes', {
      RequestMethod: 'GET',
      RequestUri: '/_ping',
      ResponseStatusCode: 503,
      ResponseHeaders: { Server: 'x' },
      ResponseBody: Buffer.from('down').toString('base64'),
    });
    assert.deepEqual(a.body, { Allow: false });
    const r = seen.at(-1) as AuthzResponseRequest;
    assert.equal(String(r.ResponseBody), 'down');
    assert.deepEqual(r.ResponseHeaders, { Server: 'x' });
  });

  it('maps a thrown error to {"Err"} (Docker then denies) and bad base64 to 400', async () => {
    const a = await post(s.socket, 'AuthZPlugin.AuthZReq', { RequestMethod: 'GET', RequestUri: '/boom' });
    assert.deepEqual([a.status, a.body], [500, { Err: 'policy store unreachable' }]);
    const bad = await post(s.socket, 'AuthZPlugin.AuthZReq', {
      RequestMethod: 'GET',
      RequestUri: '/x',
      RequestBody: '%%%',
    });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.Err), /RequestBody must be base64/);
  });

  it('allows every response when the plugin has no response handler', async () => {
    const only = await testServer({ authz: { request: () => ({ Allow: true }) } });
    try {
      const a = await post(only.socket, 'AuthZPlugin.AuthZRes', { RequestMethod: 'GET', RequestUri: '/x' });
      assert.deepEqual(a.body, { Allow: true });
    } finally {
      await only.stop();
    }
  });
});
