/**
 * Blob uploads from a file: every byte of the file reaches the registry, each piece read is told to `onRead`, and
 * a request sent again (after a 401) reads the file again. A plain-HTTP server on loopback.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from './digest.ts';
import { RegistryClient } from './registry-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-upload-'));
const LAYER = randomBytes(300 * 1024 + 7); // several pieces of a file read
const file = join(dir, 'layer.tar.gz');
writeFileSync(file, LAYER);

describe('registry client: blob upload from a file', () => {
  let server: Server;
  let host = '';
  const received: Buffer[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!req.headers.authorization)
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('{"errors":[]}');
        else if (req.method === 'POST') res.writeHead(202, { location: '/v2/lib/p/blobs/uploads/1' }).end();
        else if (req.method === 'PUT') {
          received.push(Buffer.concat(chunks));
          res.writeHead(201).end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the whole file and tells onRead each piece it read', async () => {
    const client = new RegistryClient({
      domain: host,
      path: 'lib/p',
      actions: 'push,pull',
      auth: { username: 'u', password: 'p' },
      insecure: true,
    });
    const pieces: number[] = [];
    await client.pushBlob(sha256(LAYER), { file, size: LAYER.length, onRead: (n) => pieces.push(n) });
    assert.deepEqual(received.at(-1), LAYER);
    assert.ok(pieces.length > 1);
    // the PUT may have been sent twice (once without credentials): each sending read the whole file
    const sum = pieces.reduce((a, b) => a + b, 0);
    assert.ok(sum > 0 && sum % LAYER.length === 0, `read ${sum} bytes of a ${LAYER.length}-byte file`);
  });
});
