import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthorization, decodeRegistryAuth, encodeRegistryAuth, parseChallenges } from './auth.ts';

describe('decodeRegistryAuth()', () => {
  it('reads the docker CLI encoding (base64url JSON) and keeps only the string fields', () => {
    const header = encodeRegistryAuth({ username: 'al', password: 'p?>>', serveraddress: 'r:5000' });
    assert.match(header, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeRegistryAuth(header), {
      username: 'al',
      password: 'p?>>',
      serveraddress: 'r:5000',
    });
  });

  it('splits a config-file style `auth` into username and password', () => {
    const header = encodeRegistryAuth({ auth: Buffer.from('bob:pa:ss').toString('base64') });
    const auth = decodeRegistryAuth(header);
    assert.equal(auth?.username, 'bob');
    assert.equal(auth?.password, 'pa:ss');
  });

  it('matches AuthConfig keys in any case, as Go decodes them', () => {
    const header = Buffer.from(
      JSON.stringify({ Username: 'u', PASSWORD: 'p', ServerAddress: 'r.example', IdentityToken: 't' }),
    ).toString('base64url');
    assert.deepEqual(decodeRegistryAuth(header), {
      username: 'u',
      password: 'p',
      identitytoken: 't',
      serveraddress: 'r.example',
    });
  });

  it('ignores what is not base64 JSON, like dockerd (anonymous access)', () => {
    for (const h of [undefined, '', 'not base64!', Buffer.from('[1]').toString('base64url'), 'e30']) {
      assert.equal(decodeRegistryAuth(h), undefined, String(h));
    }
  });
});

describe('parseChallenges()', () => {
  it('reads Bearer and Basic challenges with quoted and bare parameters', () => {
    assert.deepEqual(
      parseChallenges([
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"',
        'Basic realm=berth',
      ]),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:a/b:pull',
          },
        },
        { scheme: 'basic', params: { realm: 'berth' } },
      ],
    );
  });

  it('keeps commas inside quotes and unescapes', () => {
    const [c] = parseChallenges(
      'Bearer realm="https://x/t",scope="repository:a:pull,push",error="a \\"b\\""',
    );
    assert.equal(c?.params.scope, 'repository:a:pull,push');
    assert.equal(c?.params.error, 'a "b"');
  });

  it('builds Basic only from a username and password', () => {
    assert.equal(
      basicAuthorization({ username: 'a', password: 'b' }),
      `Basic ${Buffer.from('a:b').toString('base64')}`,
    );
    assert.equal(basicAuthorization({ identitytoken: 't' }), undefined);
    assert.equal(basicAuthorization(undefined), undefined);
  });
});
