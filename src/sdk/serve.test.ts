import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { post, testServer } from '../../test/sdk-support.ts';
import { serve } from './index.ts';

const SDK = new URL('./index.ts', import.meta.url).pathname;

describe('serve()', () => {
  it('needs at least one handler', async () => {
    await assert.rejects(serve({}, { socket: '/tmp/never.sock' }), /needs at least one of/);
  });

  it('answers only POST, and 404 for unknown methods', async () => {
    const s = await testServer({ authz: { request: () => ({ Allow: true }) } });
    try {
      const a = await post(s.socket, 'Nope.Method', {});
      assert.equal(a.status, 404);
      assert.match(String(a.body.Err), /^Nope.Method: this plugin does not implement it/);
    } finally {
      await s.stop();
    }
    assert.equal(existsSync(s.socket), false, 'close() removes the socket');
  });

  it('replaces a stale socket and, on SIGTERM, closes, removes the socket and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sdk-'));
    const socket = join(dir, 'p.sock');
    writeFileSync(socket, 'left by a killed run');
    const script = join(dir, 'plugin.mts');
    writeFileSync(
      script,
      `import { serve } from ${JSON.stringify(SDK)};\n` +
        `await serve({ authz: { request: () => ({ Allow: true }) } }, { socket: ${JSON.stringify(socket)} });\n` +
        `console.log('ready');\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      assert.deepEqual((await post(socket, 'Plugin.Activate')).body, { Implements: ['authz'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(existsSync(socket), false);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
