/**
 * Redirects of blob downloads, as registries send them to their storage (Docker Hub: another host): followed for
 * GET and HEAD, without the registry's Authorization once the host changes. Two plain-HTTP servers on loopback.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sha256 } from './digest.ts';
import { RegistryClient } from './registry-client.ts';

const BLOB = Buffer.from('layer bytes');
const DIGEST = sha256(BLOB);

async function listen(
  handle: (url: string, h: IncomingHttpHeaders, res: ServerResponse) => void,
): Promise<{ server: Server; host: string; seen: { url: string; auth?: string | undefined }[] }> {
  const seen: { url: string; auth?: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    handle(req.url ?? '', req.headers, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

describe('registry client: redirects', () => {
  let storage: Awaited<ReturnType<typeof listen>>;
  let registry: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    storage = await listen((_url, _h, res) => res.end(BLOB));
    registry = await listen((url, h, res) => {
      if (!h.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('{"errors":[]}');
      } else if (url.endsWith(`/away/blobs/${DIGEST}`)) {
        res.writeHead(307, { location: `http://${storage.host}/store/b?sig=1` }).end();
      } else if (url.endsWith(`/here/blobs/${DIGEST}`)) {
        res.writeHead(302, { location: `/v2/lib/store/blobs/${DIGEST}` }).end();
      } else if (url.endsWith(`/store/blobs/${DIGEST}`)) res.end(BLOB);
      else if (url.includes('/loop/')) res.writeHead(302, { location: url }).end();
      else res.end('{}');
    });
    // fetch() makes Node's own undici the process's global dispatcher, as any code in berthd may: the client's
    // redirecting dispatcher must not be built on it.
    await (await fetch(`http://${storage.host}/warm`)).arrayBuffer();
  });
  after(() => {
    for (const s of [registry.server, storage.server]) {
      s.closeAllConnections();
      s.close();
    }
  });

  const client = (path: string) =>
    new RegistryClient({
      domain: registry.host,
      path,
      actions: 'pull',
      auth: { username: 'u', password: 'p' },
      insecure: true,
    });
  const read = async (r: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  it('follows a blob download to another host, without sending the registry credentials there', async () => {
    assert.deepEqual(await read(await client('lib/away').blob(DIGEST, BLOB.length)), BLOB);
    assert.equal(await client('lib/away').hasBlob(DIGEST), true);
    assert.match(registry.seen.at(-1)?.auth ?? '', /^Basic /);
    const downloads = storage.seen.filter((s) => s.url.startsWith('/store/'));
    assert.deepEqual(
      downloads.map((s) => s.auth),
      [undefined, undefined],
    );
  });

  it('keeps the credentials on a redirect within the registry, and stops a redirect loop with its status', async () => {
    assert.deepEqual(await read(await client('lib/here').blob(DIGEST)), BLOB);
    assert.match(registry.seen.at(-1)?.auth ?? '', /^Basic /);
    await assert.rejects(
      client('lib/loop').blob(DIGEST),
      /the registry 127\.0\.0\.1:\d+ redirects it in a loop$/,
    );
  });
});
