/**
 * Errors that used to be swallowed: each now says what went wrong instead of passing for something else.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { registryAuthHeader } from '../src/cli/commands/plugin-registry.ts';
import { kindOf } from '../src/errdefs/index.ts';
import { fromErrno, kindOfErrno } from '../src/host/index.ts';
import { readCappedLog, unpackDirectory } from '../src/plugins/index.ts';
import { RegistryClient } from '../src/registry/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-swallowed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('errors that are reported, not swallowed', () => {
  it('maps errno to error kinds in one table', () => {
    const e = (code: string) => Object.assign(new Error(`${code}: words here, open '/x'`), { code });
    assert.deepEqual(
      ['ENOENT', 'EEXIST', 'ENAMETOOLONG', 'ECONNREFUSED', 'EACCES', 'EIO'].map((c) => kindOfErrno(e(c))),
      ['NotFound', 'Conflict', 'InvalidParameter', 'Unavailable', 'System', 'System'],
    );
    const err = fromErrno(e('EACCES'), 'cannot read x');
    assert.equal(err.message, 'cannot read x: words here');
    assert.equal(kindOf(err), 'System');
  });

  it('reads a plugin log that cannot be read as an error, not as an empty log', () => {
    const log = join(dir, 'plugin.log');
    mkdirSync(log);
    assert.throws(
      () => readCappedLog(log),
      /cannot read plugin log .*plugin\.log: illegal operation on a directory/,
    );
    assert.equal(readCappedLog(join(dir, 'absent.log')).length, 0);
  });

  it('tells an unreadable config.json from a missing one', () => {
    const ctx = join(dir, 'ctx');
    mkdirSync(join(ctx, 'rootfs', 'bin'), { recursive: true });
    writeFileSync(join(ctx, 'rootfs', 'bin', 'x'), 'x');
    assert.throws(() => unpackDirectory(ctx, join(dir, 's1')), /config not found/);
    mkdirSync(join(ctx, 'config.json'));
    assert.throws(
      () => unpackDirectory(ctx, join(dir, 's2')),
      /config.json is a directory, it must be a file/,
    );
  });

  it('warns when the docker CLI config cannot be used instead of silently going anonymous', () => {
    const config = join(dir, 'docker-config');
    mkdirSync(config);
    writeFileSync(join(config, 'config.json'), '{"auths": ');
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => written.push(s) > 0) as unknown as typeof process.stderr.write;
    try {
      assert.deepEqual(registryAuthHeader('localhost:5000/a/b', config), {});
    } finally {
      process.stderr.write = write;
    }
    assert.match(written.join(''), /warning: ignoring .*config.json \(.*JSON.*\): using anonymous access/);
  });

  it('says so when an insecure registry is reached over plain HTTP', async () => {
    const server = createServer((_req, res) => res.writeHead(200).end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const told: string[] = [];
    try {
      await new RegistryClient({
        domain: `127.0.0.1:${port}`,
        path: '',
        actions: 'pull',
        insecure: true,
        onPlainHttp: (m) => told.push(m),
      }).ping();
    } finally {
      server.close();
    }
    assert.equal(told.length, 1);
    assert.match(
      told[0] ?? '',
      new RegExp(`registry 127.0.0.1:${port} is insecure and does not answer HTTPS .*: using plain HTTP`),
    );
  });
});
