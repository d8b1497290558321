/**
 * berth's registry client against a real docker-registry that uses token authentication, the scheme of Docker
 * Hub: a 401 with a Bearer challenge, a token from the realm (anonymous, with a password, or with an OAuth
 * refresh token from `docker login`), then the request again. The token service is a small one written here
 * (the registry verifies its RS256 tokens against a certificate made with openssl).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, sha256 } from '../../src/registry/index.ts';
import { skipUnlessRegistry, startRegistry, type TestRegistry } from './registry.ts';

const skip = skipUnlessRegistry();
const SERVICE = 'berth-test';
const ISSUER = 'berth-test-issuer';

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

describe('registry token authentication (Bearer)', { skip }, () => {
  let dir: string;
  let reg: TestRegistry;
  let tokens: Server;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=berth-token'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    const certDer = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw;
    /** alice/s3cret or refresh token "refresh-1" get what they ask for; anyone else only pull. */
    const token = (user: string | undefined, scope: string | null) => {
      const access = (scope ?? '')
        .split(' ')
        .filter(Boolean)
        .map((s) => {
          const [type, name, actions] = s.split(':');
          const wanted = (actions ?? '').split(',');
          return { type, name, actions: user ? wanted : wanted.filter((a) => a === 'pull') };
        });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
      const claims = b64url(
        JSON.stringify({
          iss: ISSUER,
          sub: user ?? '',
          aud: SERVICE,
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomUUID(),
          access,
        }),
      );
      return `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key))}`;
    };
    tokens = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        let user: string | undefined;
        let scope = url.searchParams.get('scope');
        if (req.method === 'POST') {
          const form = new URLSearchParams(body);
          seen.push(`POST ${form.get('grant_type')}`);
          if (form.get('refresh_token') !== 'refresh-1') {
            res.writeHead(401).end('{"details":"bad token"}');
            return;
          }
          user = 'alice';
          scope = form.get('scope');
        } else {
          const basic = req.headers.authorization?.replace(/^Basic /, '');
          const [u, p] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
          seen.push(`GET ${u ?? 'anonymous'}`);
          if (basic && !(u === 'alice' && p === 's3cret')) {
            res.writeHead(401).end('{"details":"wrong password"}');
            return;
          }
          user = u;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token: token(user, scope) }));
      });
    });
    await new Promise<void>((r) => tokens.listen(0, '127.0.0.1', r));
    const port = (tokens.address() as { port: number }).port;
    reg = await startRegistry(join(dir, 'registry'), {
      token: {
        realm: `http://127.0.0.1:${port}/token`,
        service: SERVICE,
        issuer: ISSUER,
        rootcertbundle: join(dir, 'cert.pem'),
      },
    });
  });
  after(async () => {
    await reg?.stop();
    tokens?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (
    auth: ConstructorParameters<typeof RegistryClient>[0]['auth'],
    actions: 'pull' | 'pull,push',
  ) => new RegistryClient({ domain: reg.domain, path: 'team/p', actions, auth, insecure: true });
  const blob = Buffer.from('plugin bytes');

  it('pushes with a password: the token service is asked with Basic credentials for pull,push', async () => {
    seen.length = 0;
    const c = client({ username: 'alice', password: 's3cret' }, 'pull,push');
    await c.pushBlob(sha256(blob), blob);
    assert.equal(await c.hasBlob(sha256(blob)), true);
    assert.ok(seen.includes('GET alice'), seen.join());
  });

  it('pulls anonymously with a pull-only token, and cannot push with one', async () => {
    seen.length = 0;
    const reader = client(undefined, 'pull');
    assert.equal(await reader.hasBlob(sha256(blob)), true);
    const chunks: Buffer[] = [];
    for await (const c of await reader.blob(sha256(blob))) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), blob);
    assert.ok(seen.includes('GET anonymous'), seen.join());
    const other = Buffer.from('more');
    await assert.rejects(client(undefined, 'pull,push').pushBlob(sha256(other), other), {
      name: 'UnauthorizedError',
      message: /push access denied for localhost:\d+\/team\/p/,
    });
  });

  it('trades an identity token (docker login OAuth) for an access token, and refuses a bad one or a wrong password', async () => {
    seen.length = 0;
    assert.equal(await client({ identitytoken: 'refresh-1' }, 'pull,push').hasBlob(sha256(blob)), true);
    assert.deepEqual(seen, ['POST refresh_token']);
    await assert.rejects(client({ identitytoken: 'stale' }, 'pull').hasBlob(sha256(blob)), {
      name: 'UnauthorizedError',
      message: /refused the credentials: \{"details":"bad token"\}/,
    });
    await assert.rejects(client({ username: 'alice', password: 'nope' }, 'pull').hasBlob(sha256(blob)), {
      name: 'UnauthorizedError',
      message: /refused the credentials: \{"details":"wrong password"\}/,
    });
  });

  it('checks a login (POST /auth) with the token flow and no repository scope', async () => {
    await new RegistryClient({
      domain: reg.domain,
      path: '',
      actions: 'pull',
      auth: { username: 'alice', password: 's3cret' },
      insecure: true,
    }).ping();
  });
});
