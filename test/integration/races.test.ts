/**
 * Races on one plugin through a real berthd with runc: random interleavings of enable, disable, set, rm and
 * rm -f sent at once (fast-check). Every answer must be 2xx, 404 or 409 (never a 500), and once they settle
 * nothing may be left behind: no directory of a removed plugin, no container without a plugin.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import * as tar from 'tar';
import { Agent, request } from 'undici';
import { miniContext } from '../../bench/fixtures/mini-plugin.ts';
import { type TestDaemon, testDaemon } from './berthd.ts';
import { runcIds } from './plugin-helpers.ts';
import { skipUnlessContainers } from './runc-bundle.ts';

const skip = skipUnlessContainers();
const NAME = 'race/vol:latest';
const OPS = ['enable', 'disable', 'set', 'rm', 'rm -f', 'inspect'] as const;
type Op = (typeof OPS)[number];

describe('races on one plugin answer 2xx/404/409 and leave nothing behind', { skip }, () => {
  let d: TestDaemon;
  let ctx: string;
  let agent: Agent;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(`http://berth${path}`, {
      method: method as 'GET',
      dispatcher: agent,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.statusCode, text: await res.body.text() };
  };

  const send = (op: Op) => {
    const p = `/v1.41/plugins/${NAME}`;
    switch (op) {
      case 'enable':
        return call('POST', `${p}/enable?timeout=10`);
      case 'disable':
        return call('POST', `${p}/disable`);
      case 'set':
        return call('POST', `${p}/set`, ['DEBUG=1']);
      case 'rm':
        return call('DELETE', p);
      case 'rm -f':
        return call('DELETE', `${p}?force=1`);
      case 'inspect':
        return call('GET', `${p}/json`);
    }
  };

  const create = async () => {
    const body = tar.c({ cwd: ctx }, ['config.json', 'rootfs']) as unknown as NodeJS.ReadableStream;
    const res = await request(`http://berth/v1.41/plugins/create?name=${encodeURIComponent(NAME)}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-tar' },
      body: body as never,
    });
    assert.equal(res.statusCode, 204, await res.body.text());
  };

  const containers = () => runcIds(join(d.execRoot, 'runtime-runc'));
  const ids = (dir: string) =>
    existsSync(dir) ? readdirSync(dir).filter((e) => /^[0-9a-f]{64}$/.test(e)) : [];

  before(async () => {
    d = testDaemon('berth-races');
    ctx = miniContext(d.dir);
    const manifest = JSON.parse(readFileSync(join(ctx, 'config.json'), 'utf8'));
    manifest.Env = [{ Name: 'DEBUG', Settable: ['value'], Value: '0' }];
    writeFileSync(join(ctx, 'config.json'), JSON.stringify(manifest));
    await d.start(['--no-runtime-smoke-test']);
    agent = new Agent({ connect: { socketPath: d.socket } });
  });
  after(async () => {
    await agent?.close();
    await d?.cleanup();
  });

  it('under random interleavings (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...OPS), { minLength: 4, maxLength: 12 }), async (ops) => {
        await create();
        const answers = await Promise.all(ops.map((op) => send(op).then((r) => ({ op, ...r }))));
        for (const a of answers) {
          assert.ok([200, 204, 404, 409].includes(a.status), `${a.op} answered ${a.status}: ${a.text}`);
          if (a.status === 404) assert.match(a.text, /plugin \\?"race\/vol:latest\\?" not found/);
        }
        // Settle: whatever is left is removed; then nothing of the plugin may remain.
        const last = await send('rm -f');
        assert.ok([200, 404].includes(last.status), last.text);
        assert.equal((await send('inspect')).status, 404);
        assert.deepEqual(ids(join(d.dataRoot, 'plugins')), []);
        assert.deepEqual(ids(join(d.execRoot, 'plugins')), []);
        assert.deepEqual(ids(join(d.execRoot, 'plugin-bundles')), []);
        assert.deepEqual(containers(), []);
      }),
      { numRuns: 10, seed: Number(process.env.RACE_SEED ?? Date.now() % 1e9) },
    );
  });

  it('concurrent rm -f of one plugin: one removes it, the others answer 404, nothing is left', async () => {
    await create();
    assert.equal((await send('enable')).status, 200);
    const answers = await Promise.all(Array.from({ length: 8 }, () => send('rm -f')));
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [200, 404, 404, 404, 404, 404, 404, 404],
      answers.map((a) => a.text).join('\n'),
    );
    assert.deepEqual(ids(join(d.execRoot, 'plugins')), []);
    assert.deepEqual(ids(join(d.execRoot, 'plugin-bundles')), []);
    assert.deepEqual(containers(), []);
  });
});
