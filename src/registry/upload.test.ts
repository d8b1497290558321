/**
 * Blob uploads from a file: every byte of the file reaches the registry, each piece read is told to `onRead`, and
 * a request sent again (after a 401) reads the file from the start. A plain-HTTP server on loopback that refuses
 * the first PUT once it has read all of it.
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
  const puts: Buffer[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') res.writeHead(202, { location: '/v2/lib/p/blobs/uploads/1' }).end();
        else if (req.method !== 'PUT') res.writeHead(404).end();
        else if (!req.headers.authorization) {
          puts.push(Buffer.concat(chunks)); // read to the end, then refused: the client sends it again
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('{"errors":[]}');
        } else {
          puts.push(Buffer.concat(chunks));
          res.writeHead(201).end();
        }
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

  it('sends the whole file again after a 401, and tells onRead each piece it read', async () => {
    const client = new RegistryClient({
      domain: host,
      path: 'lib/p',
      actions: 'pull,push',
      auth: { username: 'u', password: 'p' },
      insecure: true,
    });
    const pieces: number[] = [];
    await client.pushBlob(sha256(LAYER), { file, size: LAYER.length, onRead: (n) => pieces.push(n) });
    assert.equal(puts.length, 2);
    assert.deepEqual(puts[0], LAYER);
    assert.deepEqual(puts[1], LAYER); // read from the start again
    assert.ok(pieces.length > 2);
    assert.equal(
      pieces.reduce((a, b) => a + b, 0),
      2 * LAYER.length,
    );
  });
});
